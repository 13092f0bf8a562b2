using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// The protobuf form of GET /openapi/v2 (asked for as <see cref="AcceptType"/>, served as <see cref="ContentType"/>): the swagger 2.0 JSON document
/// encoded as gnostic's <c>openapi.v2.Document</c> (google/gnostic-models openapiv2/OpenAPIv2.proto)
/// the way kube-apiserver produces it: gnostic's <c>NewDocument</c> over the parsed JSON, then
/// <c>proto.Marshal</c>. The mapping follows gnostic's generated compiler: fields in field-number
/// order with proto3 defaults omitted; objects become repeated <c>Named*</c> pairs in JSON key
/// order; <c>x-*</c> keys become <c>NamedAny</c> whose <c>Any.yaml</c> is the yaml.v3 rendering of
/// the value; <c>$ref</c> is <c>_ref</c>; and every oneof takes the last alternative whose gnostic
/// constructor succeeds (a query parameter is <c>NonBodyParameter.query_parameter_sub_schema</c>,
/// <c>additionalProperties: false</c> the <c>boolean</c> arm, a <c>$ref</c> response a
/// <c>JsonReference</c>, ...).
/// </summary>
public static partial class OpenApiV2Protobuf
{
    /// <summary>The media type clients (kubectl's discovery client) ask for.</summary>
    public const string AcceptType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

    /// <summary>The Content-Type served for it: '@' is no MIME token character, so kube-openapi answers with the dotted form, which Go's mime.ParseMediaType accepts.</summary>
    public const string ContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    /// <summary>Encodes a swagger 2.0 document (as built by <see cref="OpenApiV2Builder"/>) as gnostic's Document message.</summary>
    public static byte[] Encode(JsonObject swagger)
    {
        var w = new ProtoWriter(1 << 20);
        T.Document.Encode(w, swagger);
        return w.ToArray();
    }

    /// <summary>The <c>Any.yaml</c> text gnostic stores for a value (yaml.v3 Marshal of the JSON node, styles cleared).</summary>
    public static string Yaml(JsonNode? value) => GnosticYaml.Marshal(value);

    // ------------------------------------------------------------------ JSON values as gnostic sees them

    /// <summary>The yaml.v3 node kind/tag that parsing the JSON gives gnostic.</summary>
    internal enum Kind { Null, String, Int, Float, Bool, Map, Seq }

    internal static Kind KindOf(JsonNode? n) => n switch
    {
        null => Kind.Null,
        JsonObject => Kind.Map,
        JsonArray => Kind.Seq,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Kind.String,
            JsonValueKind.True or JsonValueKind.False => Kind.Bool,
            JsonValueKind.Number => IsIntText(v.ToJsonString()) ? Kind.Int : Kind.Float,
            _ => Kind.Null,
        },
        _ => Kind.Null,
    };

    private static bool IsIntText(string t) =>
        t.AsSpan().IndexOfAny('.', 'e', 'E') < 0
        && (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            || ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _));

    /// <summary>A scalar's text as its yaml node holds it (<c>node.Value</c>).</summary>
    internal static string ScalarText(JsonNode? n) => KindOf(n) switch
    {
        Kind.Null => "null",
        Kind.String => n!.GetValue<string>(),
        Kind.Bool => n!.GetValue<bool>() ? "true" : "false",
        Kind.Int or Kind.Float => n!.ToJsonString(),
        _ => "",
    };

    /// <summary>compiler.StringForScalarNode: strings, integers (as their text) and null (as "").</summary>
    private static bool TryStr(JsonNode? n, out string s)
    {
        switch (KindOf(n))
        {
            case Kind.Null: s = ""; return true;
            case Kind.String: s = n!.GetValue<string>(); return true;
            case Kind.Int: s = n!.ToJsonString(); return true;
            default: s = ""; return false;
        }
    }

    private static bool TryInt(JsonNode? n, out long v)
    {
        v = 0;
        return KindOf(n) == Kind.Int && long.TryParse(n!.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);
    }

    private static bool TryDouble(JsonNode? n, out double v)
    {
        v = 0;
        return KindOf(n) is Kind.Int or Kind.Float
            && double.TryParse(n!.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out v)
            && double.IsFinite(v);
    }

    private static bool TryBool(JsonNode? n, out bool v)
    {
        var ok = KindOf(n) == Kind.Bool;
        v = ok && n!.GetValue<bool>();
        return ok;
    }

    private static bool IsExtension(string key) => key.StartsWith("x-", StringComparison.Ordinal);

    private static void WriteAny(ProtoWriter w, JsonNode? v) => w.WriteString(2, GnosticYaml.Marshal(v));

    // ------------------------------------------------------------------ message model

    /// <summary>A gnostic message type: how its constructor maps JSON to fields, and whether it would succeed.</summary>
    private sealed class MsgType
    {
        public Field[] Fields = [];
        /// <summary>Allowed keys/patterns; null for MAP messages, which take any key.</summary>
        public Func<string, bool>? KeyOk;
        public string[] Required = [];
        public Action<ProtoWriter, JsonNode?>? CustomEncode;
        public Func<JsonNode?, bool>? CustomValid;
        public readonly Action<ProtoWriter, JsonNode?> Writer;

        public MsgType() => Writer = Encode;

        public void Encode(ProtoWriter w, JsonNode? n)
        {
            if (CustomEncode is not null)
            {
                CustomEncode(w, n);
                return;
            }
            if (n is not JsonObject m) return;
            foreach (var f in Fields) f.Write(w, m);
        }

        /// <summary>Whether gnostic's <c>NewX</c> returns no error for this value (decides oneofs).</summary>
        public bool Valid(JsonNode? n)
        {
            if (CustomValid is not null) return CustomValid(n);
            if (n is not JsonObject m) return Required.Length == 0;
            foreach (var r in Required) if (!m.ContainsKey(r)) return false;
            if (KeyOk is not null) foreach (var (k, _) in m) if (!KeyOk(k)) return false;
            foreach (var f in Fields) if (!f.Check(m)) return false;
            return true;
        }
    }

    private abstract class Field(int no)
    {
        public readonly int No = no;
        public abstract void Write(ProtoWriter w, JsonObject m);
        public abstract bool Check(JsonObject m);
    }

    /// <summary>A field read from one JSON key.</summary>
    private abstract class Keyed(string key, int no) : Field(no)
    {
        public readonly string Key = key;
        public override void Write(ProtoWriter w, JsonObject m)
        {
            if (m.TryGetPropertyValue(Key, out var v)) WriteValue(w, v);
        }
        public override bool Check(JsonObject m) => !m.TryGetPropertyValue(Key, out var v) || CheckValue(v);
        protected abstract void WriteValue(ProtoWriter w, JsonNode? v);
        protected virtual bool CheckValue(JsonNode? v) => true;
    }

    private sealed class Str(string key, int no, params string[] allowed) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (TryStr(v, out var s)) w.WriteString(No, s);
        }
        protected override bool CheckValue(JsonNode? v) => TryStr(v, out var s) && (allowed.Length == 0 || allowed.Contains(s));
    }

    private sealed class Bool(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (TryBool(v, out var b) && b) w.WriteBool(No, true);
        }
        protected override bool CheckValue(JsonNode? v) => TryBool(v, out _);
    }

    private sealed class Int(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (TryInt(v, out var i) && i != 0) w.WriteInt64(No, i);
        }
        protected override bool CheckValue(JsonNode? v) => TryInt(v, out _);
    }

    private sealed class Dbl(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (TryDouble(v, out var d) && BitConverter.DoubleToInt64Bits(d) != 0) w.WriteDouble(No, d);
        }
        protected override bool CheckValue(JsonNode? v) => TryDouble(v, out _);
    }

    /// <summary>repeated string (compiler.StringArrayForSequenceNode: non-string items are dropped).</summary>
    private sealed class Strs(string key, int no, params string[] allowed) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (v is not JsonArray a) return;
            foreach (var item in a) if (TryStr(item, out var s)) w.WriteStringAlways(No, s);
        }
        protected override bool CheckValue(JsonNode? v) =>
            v is JsonArray a && (allowed.Length == 0 || a.All(i => !TryStr(i, out var s) || allowed.Contains(s)));
    }

    private sealed class AnyF(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v) => w.WriteMessage(No, v, WriteAny);
    }

    private sealed class Anys(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (v is JsonArray a) foreach (var item in a) w.WriteMessage(No, item, WriteAny);
        }
    }

    private sealed class Msg(string key, int no, Func<MsgType> type) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v) => w.WriteMessage(No, v, type().Writer);
        protected override bool CheckValue(JsonNode? v) => type().Valid(v);
    }

    private sealed class Msgs(string key, int no, Func<MsgType> type) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (v is JsonArray a) foreach (var item in a) w.WriteMessage(No, item, type().Writer);
        }
        protected override bool CheckValue(JsonNode? v) => v is not JsonArray a || a.All(type().Valid);
    }

    /// <summary><c>items</c>: an ItemsItem holding the one schema, absent when that schema fails to compile.</summary>
    private sealed class Items(string key, int no) : Keyed(key, no)
    {
        protected override void WriteValue(ProtoWriter w, JsonNode? v)
        {
            if (T.Schema.Valid(v)) w.WriteMessage(No, v, static (w, v) => w.WriteMessage(1, v, T.Schema.Writer));
        }
        protected override bool CheckValue(JsonNode? v) => T.Schema.Valid(v);
    }

    /// <summary>The <c>x-*</c> keys as repeated NamedAny.</summary>
    private sealed class Ext(int no) : Field(no)
    {
        public override void Write(ProtoWriter w, JsonObject m)
        {
            foreach (var (k, v) in m)
            {
                if (!IsExtension(k)) continue;
                w.WriteMessage(No, (k, v), static (w, p) =>
                {
                    w.WriteString(1, p.k);
                    w.WriteMessage(2, p.v, WriteAny);
                });
            }
        }
        public override bool Check(JsonObject m) => true;
    }

    /// <summary>A map as repeated Named* pairs (name = 1, value = 2) over the keys <paramref name="keys"/> accepts.</summary>
    private sealed class Named(int no, Func<string, bool>? keys, Func<MsgType>? type, bool stringValue = false) : Field(no)
    {
        private readonly Func<MsgType>? _type = type;
        private readonly bool _stringValue = stringValue;

        public override void Write(ProtoWriter w, JsonObject m)
        {
            foreach (var (k, v) in m)
            {
                if (keys is not null && !keys(k)) continue;
                w.WriteMessage(No, (k, v, this), static (w, p) =>
                {
                    w.WriteString(1, p.k);
                    if (p.Item3._stringValue)
                    {
                        TryStr(p.v, out var s);
                        w.WriteString(2, s);
                    }
                    else if (p.Item3._type is null) w.WriteMessage(2, p.v, WriteAny);
                    else w.WriteMessage(2, p.v, p.Item3._type().Writer);
                });
            }
        }
        public override bool Check(JsonObject m)
        {
            if (_type is null) return true;
            foreach (var (k, v) in m)
                if ((keys is null || keys(k)) && !_type().Valid(v)) return false;
            return true;
        }
    }

    /// <summary>A MAP message: every key is an entry.</summary>
    private static MsgType MapOf(Func<MsgType>? type, bool stringValue = false) => new() { Fields = [new Named(1, null, type, stringValue)] };

    private static Func<string, bool> Keys(params string[] allowed)
    {
        var set = allowed.ToHashSet(StringComparer.Ordinal);
        return k => set.Contains(k) || IsExtension(k);
    }

    /// <summary>A oneof wrapper: the last alternative (field number, type) that compiles wins; none leaves it empty.</summary>
    private static MsgType OneOf(params (int No, Func<MsgType> Type)[] arms) => new()
    {
        CustomEncode = (w, n) =>
        {
            for (var i = arms.Length - 1; i >= 0; i--)
            {
                var t = arms[i].Type();
                if (!t.Valid(n)) continue;
                w.WriteMessage(arms[i].No, n, t.Writer);
                return;
            }
        },
        CustomValid = n => arms.Any(a => a.Type().Valid(n)),
    };

    private static readonly Regex ResponseCode = new("^([0-9]{3})$|^(default)$", RegexOptions.CultureInvariant);
}
