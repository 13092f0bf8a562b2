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
public static class OpenApiV2Protobuf
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

    /// <summary>The gnostic message types (field numbers from OpenAPIv2.proto).</summary>
    private static class T
    {
        private static readonly string[] PrimitiveTypes = ["string", "number", "integer", "boolean", "array"];
        private static readonly string[] CollectionFormats = ["csv", "ssv", "tsv", "pipes"];
        private static readonly string[] CollectionFormatsMulti = ["csv", "ssv", "tsv", "pipes", "multi"];
        private static readonly string[] Schemes = ["http", "https", "ws", "wss"];
        private static readonly string[] PrimitiveKeys =
        [
            "collectionFormat", "default", "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "items", "maxItems",
            "maxLength", "maximum", "minItems", "minLength", "minimum", "multipleOf", "pattern", "type", "uniqueItems",
        ];

        public static readonly MsgType Document = new();
        public static readonly MsgType Info = new();
        public static readonly MsgType Contact = new();
        public static readonly MsgType License = new();
        public static readonly MsgType ExternalDocs = new();
        public static readonly MsgType Paths = new();
        public static readonly MsgType PathItem = new();
        public static readonly MsgType Operation = new();
        public static readonly MsgType Responses = new();
        public static readonly MsgType Response = new();
        public static readonly MsgType Header = new();
        public static readonly MsgType PrimitivesItems = new();
        public static readonly MsgType BodyParameter = new();
        public static readonly MsgType HeaderParameterSubSchema = new();
        public static readonly MsgType FormDataParameterSubSchema = new();
        public static readonly MsgType QueryParameterSubSchema = new();
        public static readonly MsgType PathParameterSubSchema = new();
        public static readonly MsgType JsonReference = new();
        public static readonly MsgType Schema = new();
        public static readonly MsgType FileSchema = new();
        public static readonly MsgType Xml = new();
        public static readonly MsgType Tag = new();
        public static readonly MsgType BasicAuthenticationSecurity = new();
        public static readonly MsgType ApiKeySecurity = new();
        public static readonly MsgType Oauth2ImplicitSecurity = new();
        public static readonly MsgType Oauth2PasswordSecurity = new();
        public static readonly MsgType Oauth2ApplicationSecurity = new();
        public static readonly MsgType Oauth2AccessCodeSecurity = new();

        public static readonly MsgType NonBodyParameter = OneOf(
            (1, () => HeaderParameterSubSchema), (2, () => FormDataParameterSubSchema),
            (3, () => QueryParameterSubSchema), (4, () => PathParameterSubSchema));
        public static readonly MsgType Parameter = OneOf((1, () => BodyParameter), (2, () => NonBodyParameter));
        public static readonly MsgType ParametersItem = OneOf((1, () => Parameter), (2, () => JsonReference));
        public static readonly MsgType ResponseValue = OneOf((1, () => Response), (2, () => JsonReference));
        public static readonly MsgType SchemaItem = OneOf((1, () => Schema), (2, () => FileSchema));
        public static readonly MsgType SecurityDefinitionsItem = OneOf(
            (1, () => BasicAuthenticationSecurity), (2, () => ApiKeySecurity), (3, () => Oauth2ImplicitSecurity),
            (4, () => Oauth2PasswordSecurity), (5, () => Oauth2ApplicationSecurity), (6, () => Oauth2AccessCodeSecurity));

        /// <summary>AdditionalPropertiesItem: a JSON boolean is the boolean arm (written even when false), anything compiling as a Schema the schema arm.</summary>
        public static readonly MsgType AdditionalPropertiesItem = new()
        {
            CustomEncode = (w, n) =>
            {
                if (TryBool(n, out var b)) w.WriteBool(2, b);
                else if (Schema.Valid(n)) w.WriteMessage(1, n, Schema.Writer);
            },
            CustomValid = n => TryBool(n, out _) || Schema.Valid(n),
        };

        /// <summary>TypeItem: a scalar or a sequence of scalars, as their node text.</summary>
        public static readonly MsgType TypeItem = new()
        {
            CustomEncode = (w, n) =>
            {
                if (n is JsonArray a)
                {
                    foreach (var i in a) if (i is not JsonObject and not JsonArray) w.WriteStringAlways(1, ScalarText(i));
                }
                else if (n is not JsonObject) w.WriteStringAlways(1, ScalarText(n));
            },
            CustomValid = n => n is JsonArray a ? a.All(i => i is not JsonObject and not JsonArray) : n is not JsonObject,
        };

        /// <summary>StringArray: every child node's string value ("" when it has none).</summary>
        public static readonly MsgType StringArray = new()
        {
            CustomEncode = (w, n) =>
            {
                IEnumerable<JsonNode?> items = n switch
                {
                    JsonArray a => a,
                    JsonObject o => o.SelectMany(p => new[] { (JsonNode?)JsonValue.Create(p.Key), p.Value }),
                    _ => [],
                };
                foreach (var i in items)
                {
                    TryStr(i, out var s);
                    w.WriteStringAlways(1, s);
                }
            },
            CustomValid = _ => true,
        };

        public static readonly MsgType Definitions = MapOf(() => Schema);
        public static readonly MsgType Properties = MapOf(() => Schema);
        public static readonly MsgType Headers = MapOf(() => Header);
        public static readonly MsgType Examples = MapOf(null);
        public static readonly MsgType ParameterDefinitions = MapOf(() => Parameter);
        public static readonly MsgType ResponseDefinitions = MapOf(() => Response);
        public static readonly MsgType SecurityDefinitions = MapOf(() => SecurityDefinitionsItem);
        public static readonly MsgType SecurityRequirement = MapOf(() => StringArray);
        public static readonly MsgType Oauth2Scopes = MapOf(null, stringValue: true);

        private static Field[] Primitive(int first, bool allowFile, bool multi, Func<MsgType> items) =>
        [
            new Str("type", first, allowFile ? [.. PrimitiveTypes, "file"] : PrimitiveTypes),
            new Str("format", first + 1),
            new Msg("items", first + 2, items),
            new Str("collectionFormat", first + 3, multi ? CollectionFormatsMulti : CollectionFormats),
            new AnyF("default", first + 4),
            new Dbl("maximum", first + 5),
            new Bool("exclusiveMaximum", first + 6),
            new Dbl("minimum", first + 7),
            new Bool("exclusiveMinimum", first + 8),
            new Int("maxLength", first + 9),
            new Int("minLength", first + 10),
            new Str("pattern", first + 11),
            new Int("maxItems", first + 12),
            new Int("minItems", first + 13),
            new Bool("uniqueItems", first + 14),
            new Anys("enum", first + 15),
            new Dbl("multipleOf", first + 16),
        ];

        private static void ParamSubSchema(MsgType t, string @in, bool allowEmptyValue, bool allowFile, bool multi, params string[] required)
        {
            var head = new List<Field> { new Bool("required", 1), new Str("in", 2, @in), new Str("description", 3), new Str("name", 4) };
            var next = 5;
            if (allowEmptyValue) head.Add(new Bool("allowEmptyValue", next++));
            head.AddRange(Primitive(next, allowFile, multi, () => PrimitivesItems));
            head.Add(new Ext(next + 17));
            t.Fields = [.. head];
            t.KeyOk = Keys([.. PrimitiveKeys, "description", "in", "name", "required", .. (allowEmptyValue ? new[] { "allowEmptyValue" } : [])]);
            t.Required = required;
        }

        static T()
        {
            Document.Fields =
            [
                new Str("swagger", 1, "2.0"), new Msg("info", 2, () => Info), new Str("host", 3), new Str("basePath", 4),
                new Strs("schemes", 5, Schemes), new Strs("consumes", 6), new Strs("produces", 7),
                new Msg("paths", 8, () => Paths), new Msg("definitions", 9, () => Definitions),
                new Msg("parameters", 10, () => ParameterDefinitions), new Msg("responses", 11, () => ResponseDefinitions),
                new Msgs("security", 12, () => SecurityRequirement), new Msg("securityDefinitions", 13, () => SecurityDefinitions),
                new Msgs("tags", 14, () => Tag), new Msg("externalDocs", 15, () => ExternalDocs), new Ext(16),
            ];
            Document.KeyOk = Keys("basePath", "consumes", "definitions", "externalDocs", "host", "info", "parameters", "paths",
                "produces", "responses", "schemes", "security", "securityDefinitions", "swagger", "tags");
            Document.Required = ["info", "paths", "swagger"];

            Info.Fields =
            [
                new Str("title", 1), new Str("version", 2), new Str("description", 3), new Str("termsOfService", 4),
                new Msg("contact", 5, () => Contact), new Msg("license", 6, () => License), new Ext(7),
            ];
            Info.KeyOk = Keys("contact", "description", "license", "termsOfService", "title", "version");
            Info.Required = ["title", "version"];

            Contact.Fields = [new Str("name", 1), new Str("url", 2), new Str("email", 3), new Ext(4)];
            Contact.KeyOk = Keys("email", "name", "url");
            License.Fields = [new Str("name", 1), new Str("url", 2), new Ext(3)];
            License.KeyOk = Keys("name", "url");
            License.Required = ["name"];
            ExternalDocs.Fields = [new Str("description", 1), new Str("url", 2), new Ext(3)];
            ExternalDocs.KeyOk = Keys("description", "url");
            ExternalDocs.Required = ["url"];

            Paths.Fields = [new Ext(1), new Named(2, k => k.StartsWith('/'), () => PathItem)];
            Paths.KeyOk = k => IsExtension(k) || k.StartsWith('/');

            PathItem.Fields =
            [
                new Str("$ref", 1), new Msg("get", 2, () => Operation), new Msg("put", 3, () => Operation),
                new Msg("post", 4, () => Operation), new Msg("delete", 5, () => Operation), new Msg("options", 6, () => Operation),
                new Msg("head", 7, () => Operation), new Msg("patch", 8, () => Operation),
                new Msgs("parameters", 9, () => ParametersItem), new Ext(10),
            ];
            PathItem.KeyOk = Keys("$ref", "delete", "get", "head", "options", "parameters", "patch", "post", "put");

            Operation.Fields =
            [
                new Strs("tags", 1), new Str("summary", 2), new Str("description", 3), new Msg("externalDocs", 4, () => ExternalDocs),
                new Str("operationId", 5), new Strs("produces", 6), new Strs("consumes", 7),
                new Msgs("parameters", 8, () => ParametersItem), new Msg("responses", 9, () => Responses),
                new Strs("schemes", 10, Schemes), new Bool("deprecated", 11), new Msgs("security", 12, () => SecurityRequirement),
                new Ext(13),
            ];
            Operation.KeyOk = Keys("consumes", "deprecated", "description", "externalDocs", "operationId", "parameters",
                "produces", "responses", "schemes", "security", "summary", "tags");
            Operation.Required = ["responses"];

            Responses.Fields = [new Named(1, ResponseCode.IsMatch, () => ResponseValue), new Ext(2)];
            Responses.KeyOk = k => ResponseCode.IsMatch(k) || IsExtension(k);

            Response.Fields =
            [
                new Str("description", 1), new Msg("schema", 2, () => SchemaItem), new Msg("headers", 3, () => Headers),
                new Msg("examples", 4, () => Examples), new Ext(5),
            ];
            Response.KeyOk = Keys("description", "examples", "headers", "schema");
            Response.Required = ["description"];

            Header.Fields = [.. Primitive(1, false, false, () => PrimitivesItems), new Str("description", 18), new Ext(19)];
            Header.KeyOk = Keys([.. PrimitiveKeys, "description"]);
            Header.Required = ["type"];
            PrimitivesItems.Fields = [.. Primitive(1, false, false, () => PrimitivesItems), new Ext(18)];
            PrimitivesItems.KeyOk = Keys(PrimitiveKeys);

            BodyParameter.Fields =
            [
                new Str("description", 1), new Str("name", 2), new Str("in", 3, "body"), new Bool("required", 4),
                new Msg("schema", 5, () => Schema), new Ext(6),
            ];
            BodyParameter.KeyOk = Keys("description", "in", "name", "required", "schema");
            BodyParameter.Required = ["in", "name", "schema"];
            ParamSubSchema(HeaderParameterSubSchema, "header", allowEmptyValue: false, allowFile: false, multi: false);
            ParamSubSchema(FormDataParameterSubSchema, "formData", allowEmptyValue: true, allowFile: true, multi: true);
            ParamSubSchema(QueryParameterSubSchema, "query", allowEmptyValue: true, allowFile: false, multi: true);
            ParamSubSchema(PathParameterSubSchema, "path", allowEmptyValue: false, allowFile: false, multi: false, "required");

            JsonReference.Fields = [new Str("$ref", 1), new Str("description", 2)];
            JsonReference.Required = ["$ref"];

            Schema.Fields =
            [
                new Str("$ref", 1), new Str("format", 2), new Str("title", 3), new Str("description", 4), new AnyF("default", 5),
                new Dbl("multipleOf", 6), new Dbl("maximum", 7), new Bool("exclusiveMaximum", 8), new Dbl("minimum", 9),
                new Bool("exclusiveMinimum", 10), new Int("maxLength", 11), new Int("minLength", 12), new Str("pattern", 13),
                new Int("maxItems", 14), new Int("minItems", 15), new Bool("uniqueItems", 16), new Int("maxProperties", 17),
                new Int("minProperties", 18), new Strs("required", 19), new Anys("enum", 20),
                new Msg("additionalProperties", 21, () => AdditionalPropertiesItem), new Msg("type", 22, () => TypeItem),
                new Items("items", 23), new Msgs("allOf", 24, () => Schema), new Msg("properties", 25, () => Properties),
                new Str("discriminator", 26), new Bool("readOnly", 27), new Msg("xml", 28, () => Xml),
                new Msg("externalDocs", 29, () => ExternalDocs), new AnyF("example", 30), new Ext(31),
            ];
            Schema.KeyOk = Keys("$ref", "additionalProperties", "allOf", "default", "description", "discriminator", "enum",
                "example", "exclusiveMaximum", "exclusiveMinimum", "externalDocs", "format", "items", "maxItems", "maxLength",
                "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf", "pattern",
                "properties", "readOnly", "required", "title", "type", "uniqueItems", "xml");

            FileSchema.Fields =
            [
                new Str("format", 1), new Str("title", 2), new Str("description", 3), new AnyF("default", 4),
                new Strs("required", 5), new Str("type", 6, "file"), new Bool("readOnly", 7),
                new Msg("externalDocs", 8, () => ExternalDocs), new AnyF("example", 9), new Ext(10),
            ];
            FileSchema.KeyOk = Keys("default", "description", "example", "externalDocs", "format", "readOnly", "required", "title", "type");
            FileSchema.Required = ["type"];

            Xml.Fields =
            [
                new Str("name", 1), new Str("namespace", 2), new Str("prefix", 3), new Bool("attribute", 4),
                new Bool("wrapped", 5), new Ext(6),
            ];
            Xml.KeyOk = Keys("attribute", "name", "namespace", "prefix", "wrapped");

            Tag.Fields = [new Str("name", 1), new Str("description", 2), new Msg("externalDocs", 3, () => ExternalDocs), new Ext(4)];
            Tag.KeyOk = Keys("description", "externalDocs", "name");
            Tag.Required = ["name"];

            BasicAuthenticationSecurity.Fields = [new Str("type", 1, "basic"), new Str("description", 2), new Ext(3)];
            BasicAuthenticationSecurity.KeyOk = Keys("description", "type");
            BasicAuthenticationSecurity.Required = ["type"];
            ApiKeySecurity.Fields =
            [
                new Str("type", 1, "apiKey"), new Str("name", 2), new Str("in", 3, "header", "query"), new Str("description", 4), new Ext(5),
            ];
            ApiKeySecurity.KeyOk = Keys("description", "in", "name", "type");
            ApiKeySecurity.Required = ["in", "name", "type"];
            Oauth2ImplicitSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "implicit"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("authorizationUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2ImplicitSecurity.KeyOk = Keys("authorizationUrl", "description", "flow", "scopes", "type");
            Oauth2ImplicitSecurity.Required = ["authorizationUrl", "flow", "type"];
            Oauth2PasswordSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "password"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("tokenUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2PasswordSecurity.KeyOk = Keys("description", "flow", "scopes", "tokenUrl", "type");
            Oauth2PasswordSecurity.Required = ["flow", "tokenUrl", "type"];
            Oauth2ApplicationSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "application"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("tokenUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2ApplicationSecurity.KeyOk = Keys("description", "flow", "scopes", "tokenUrl", "type");
            Oauth2ApplicationSecurity.Required = ["flow", "tokenUrl", "type"];
            Oauth2AccessCodeSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "accessCode"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("authorizationUrl", 4), new Str("tokenUrl", 5), new Str("description", 6), new Ext(7),
            ];
            Oauth2AccessCodeSecurity.KeyOk = Keys("authorizationUrl", "description", "flow", "scopes", "tokenUrl", "type");
            Oauth2AccessCodeSecurity.Required = ["authorizationUrl", "flow", "tokenUrl", "type"];
        }
    }
}

/// <summary>
/// yaml.v3's <c>Marshal</c> of a node parsed from JSON with its styles cleared, as gnostic's
/// <c>compiler.Marshal</c> does for <c>Any.yaml</c>: block style, 4-space indentation (a sequence
/// item's content sits right after "- "), empty collections as <c>{}</c>/<c>[]</c>, no line wrapping,
/// strings plain unless they would read back as another type (then double-quoted) or plain is not
/// allowed (single-, else double-quoted), multi-line strings as literal blocks.
/// </summary>
internal static class GnosticYaml
{
    private const int BestIndent = 4;

    public static string Marshal(JsonNode? node)
    {
        var e = new Emitter();
        e.Root(node);
        return e.ToString();
    }

    private sealed class Emitter
    {
        private readonly StringBuilder _sb = new();
        private int _lineStart;

        private bool AtLineStart => _sb.Length == _lineStart;

        public override string ToString() => _sb.ToString();

        private void Break()
        {
            _sb.Append('\n');
            _lineStart = _sb.Length;
        }

        private void Indent(int indent)
        {
            if (!AtLineStart) Break();
            _sb.Append(' ', indent);
        }

        public void Root(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject { Count: > 0 } o: Map(o, 0, inline: false); break;
                case JsonArray { Count: > 0 } a: Seq(a, 0, inline: false); break;
                case JsonObject: _sb.Append("{}"); break;
                case JsonArray: _sb.Append("[]"); break;
                default: Scalar(n, BestIndent, key: false); break;
            }
            if (!AtLineStart) Break();
        }

        private static bool SimpleKey(string k) =>
            !k.Any(c => IsBreak(c)) && (Encoding.UTF8.GetByteCount(k) <= 1024 || k.EnumerateRunes().Count() <= 1024);

        private static int Next(int indent) => BestIndent * ((indent + BestIndent) / BestIndent);

        private void Map(JsonObject o, int indent, bool inline)
        {
            var first = true;
            foreach (var (k, v) in o)
            {
                if (!(first && inline)) Indent(indent);
                first = false;
                var simple = SimpleKey(k);
                if (simple)
                {
                    Str(k, 0, key: true);
                }
                else
                {
                    // yaml_emitter_check_simple_key failed (multi-line or over 1024 characters): "? key", then ":" on its own line.
                    _sb.Append("? ");
                    Str(k, Next(indent), key: false);
                    Indent(indent);
                }
                _sb.Append(':');
                switch (v)
                {
                    // After a complex key's ":" the emitter is still "in indentation", so a block value starts on that line.
                    case JsonObject { Count: > 0 } vo when !simple:
                        _sb.Append(' ', Next(indent) - indent - 1);
                        Map(vo, Next(indent), inline: true);
                        break;
                    case JsonArray { Count: > 0 } va when !simple:
                        _sb.Append(' ', Next(indent) - indent - 1);
                        Seq(va, Next(indent), inline: true);
                        break;
                    case JsonObject { Count: > 0 } vo: Map(vo, Next(indent), inline: false); break;
                    case JsonArray { Count: > 0 } va: Seq(va, Next(indent), inline: false); break;
                    case JsonObject: _sb.Append(" {}"); break;
                    case JsonArray: _sb.Append(" []"); break;
                    default:
                        _sb.Append(' ');
                        Scalar(v, Next(indent), key: false);
                        break;
                }
            }
        }

        private void Seq(JsonArray a, int indent, bool inline)
        {
            var first = true;
            foreach (var item in a)
            {
                if (!(first && inline)) Indent(indent);
                first = false;
                _sb.Append('-');
                switch (item)
                {
                    case JsonObject { Count: > 0 } io:
                        _sb.Append(' ');
                        Map(io, indent + 2, inline: true);
                        break;
                    case JsonArray { Count: > 0 } ia:
                        _sb.Append(' ');
                        Seq(ia, indent + 2, inline: true);
                        break;
                    case JsonObject: _sb.Append(" {}"); break;
                    case JsonArray: _sb.Append(" []"); break;
                    default:
                        _sb.Append(' ');
                        Scalar(item, indent + 2, key: false);
                        break;
                }
            }
        }

        private void Scalar(JsonNode? n, int blockIndent, bool key)
        {
            if (OpenApiV2Protobuf.KindOf(n) == OpenApiV2Protobuf.Kind.String) Str(n!.GetValue<string>(), blockIndent, key);
            else _sb.Append(OpenApiV2Protobuf.ScalarText(n)); // numbers, booleans, null: plain, as written
        }

        private void Str(string s, int blockIndent, bool key)
        {
            var a = Analyze(s);
            if (s.Contains('\n'))
            {
                if (a.BlockAllowed && !key) Literal(s, blockIndent);
                else DoubleQuoted(s);
            }
            else if (!ResolvesToString(s)) DoubleQuoted(s);
            else if (a.BlockPlainAllowed) _sb.Append(s);
            else if (a.SingleQuotedAllowed) SingleQuoted(s, blockIndent);
            else DoubleQuoted(s);
        }

        private void Literal(string s, int indent)
        {
            _sb.Append('|');
            if (s[0] is ' ' || IsBreak(s[0])) _sb.Append((char)('0' + BestIndent));
            var last = s.Length - 1;
            if (!IsBreak(s[last])) _sb.Append('-');
            else if (last == 0 || IsBreak(s[last - 1])) _sb.Append('+');
            // As yaml.v3 writes it: no break after the header, so a leading line break only ends the header line.
            var breaks = true;
            foreach (var c in s)
            {
                if (IsBreak(c))
                {
                    if (c == '\n') Break();
                    else
                    {
                        _sb.Append(c);
                        _lineStart = _sb.Length;
                    }
                    breaks = true;
                    continue;
                }
                if (breaks) Indent(indent);
                _sb.Append(c);
                breaks = false;
            }
        }

        /// <summary>Single-quoted; only U+2028/U+2029 can be line breaks here, and the text after one is indented.</summary>
        private void SingleQuoted(string s, int indent)
        {
            _sb.Append('\'');
            var breaks = false;
            foreach (var c in s)
            {
                if (IsBreak(c))
                {
                    _sb.Append(c);
                    _lineStart = _sb.Length;
                    breaks = true;
                    continue;
                }
                if (breaks) Indent(indent);
                if (c == '\'') _sb.Append('\'');
                _sb.Append(c);
                breaks = false;
            }
            _sb.Append('\'');
        }

        private void DoubleQuoted(string s)
        {
            _sb.Append('"');
            foreach (var r in s.EnumerateRunes())
            {
                var c = r.Value;
                if (Printable(c) && c != 0xFEFF && !IsBreak(c) && c != '"' && c != '\\')
                {
                    _sb.Append(r.ToString());
                    continue;
                }
                _sb.Append('\\');
                switch (c)
                {
                    case 0x00: _sb.Append('0'); break;
                    case 0x07: _sb.Append('a'); break;
                    case 0x08: _sb.Append('b'); break;
                    case 0x09: _sb.Append('t'); break;
                    case 0x0A: _sb.Append('n'); break;
                    case 0x0B: _sb.Append('v'); break;
                    case 0x0C: _sb.Append('f'); break;
                    case 0x0D: _sb.Append('r'); break;
                    case 0x1B: _sb.Append('e'); break;
                    case 0x22: _sb.Append('"'); break;
                    case 0x5C: _sb.Append('\\'); break;
                    case 0x85: _sb.Append('N'); break;
                    case 0xA0: _sb.Append('_'); break;
                    case 0x2028: _sb.Append('L'); break;
                    case 0x2029: _sb.Append('P'); break;
                    default:
                        if (c <= 0xFF) _sb.Append('x').Append(c.ToString("X2", CultureInfo.InvariantCulture));
                        else if (c <= 0xFFFF) _sb.Append('u').Append(c.ToString("X4", CultureInfo.InvariantCulture));
                        else _sb.Append('U').Append(c.ToString("X8", CultureInfo.InvariantCulture));
                        break;
                }
            }
            _sb.Append('"');
        }
    }

    private static bool IsBreak(int c) => c is '\r' or '\n' or 0x85 or 0x2028 or 0x2029;

    /// <summary>yaml.v3's is_printable, by code point.</summary>
    private static bool Printable(int c) =>
        c == 0x0A || c is >= 0x20 and <= 0x7E || c is >= 0xA0 and <= 0xD7FF || (c is >= 0xE000 and <= 0xFFFD && c != 0xFEFF);

    private readonly record struct Analysis(bool BlockPlainAllowed, bool SingleQuotedAllowed, bool BlockAllowed);

    /// <summary>yaml_emitter_analyze_scalar, reduced to what the block context needs.</summary>
    private static Analysis Analyze(string s)
    {
        if (s.Length == 0) return new(true, true, false);
        bool blockIndicators = false, lineBreaks = false, special = false, tabs = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false, breakSpace = false, spaceBreak = false;
        bool previousSpace = false, previousBreak = false;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) blockIndicators = true;

        var runes = s.EnumerateRunes().Select(r => r.Value).ToArray();
        var precededByWhitespace = true;
        for (var i = 0; i < runes.Length; i++)
        {
            var c = runes[i];
            var followedByWhitespace = i + 1 >= runes.Length || runes[i + 1] is ' ' or '\t';
            if (i == 0)
            {
                switch (c)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        blockIndicators = true;
                        break;
                    case '?' or ':' or '-':
                        if (followedByWhitespace) blockIndicators = true;
                        break;
                }
            }
            else if (c == ':' && followedByWhitespace || c == '#' && precededByWhitespace)
            {
                blockIndicators = true;
            }

            if (c == '\t') tabs = true;
            else if (!Printable(c)) special = true;

            if (c == ' ')
            {
                if (i == 0) leadingSpace = true;
                if (i == runes.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (IsBreak(c))
            {
                lineBreaks = true;
                if (i == 0) leadingBreak = true;
                if (i == runes.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = c is ' ' or '\t' || IsBreak(c);
        }

        bool blockPlain = true, single = true, block = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
        if (trailingSpace) block = false;
        if (breakSpace) blockPlain = single = false;
        if (spaceBreak || tabs || special) blockPlain = single = false;
        if (spaceBreak || special) block = false;
        if (lineBreaks) blockPlain = false;
        if (blockIndicators) blockPlain = false;
        return new(blockPlain, single, block);
    }

    private static readonly HashSet<string> NonStringWords = new(StringComparer.Ordinal)
    {
        "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    };

    private static readonly Regex YamlFloat = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex DotFloat = new(@"^\.[0-9]+([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex GoInt = new(@"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$", RegexOptions.CultureInvariant);
    private static readonly Regex Timestamp = new(
        @"^(?<y>[0-9]{4})-(?<mo>[0-9]{1,2})-(?<d>[0-9]{1,2})(([Tt](?<h>[0-9]{1,2}):(?<mi>[0-9]{1,2}):(?<s>[0-9]{1,2})(\.[0-9]+)?(Z|[-+](?<oh>[0-9]{2}):(?<om>[0-9]{2})))|( (?<h>[0-9]{1,2}):(?<mi>[0-9]{1,2}):(?<s>[0-9]{1,2})(\.[0-9]+)?))?$",
        RegexOptions.CultureInvariant);

    /// <summary>yaml.v3's parseTimestamp: one of its layouts, and a valid date and time (time.Parse checks ranges).</summary>
    private static bool IsTimestamp(string s)
    {
        var m = Timestamp.Match(s);
        if (!m.Success) return false;
        int G(string name, int fallback = 0) => m.Groups[name].Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : fallback;
        int year = G("y"), month = G("mo"), day = G("d");
        if (month is < 1 or > 12 || day < 1) return false;
        var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        int[] days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        return day <= days[month - 1] && G("h") < 24 && G("mi") < 60 && G("s") < 60 && G("oh") <= 24 && G("om") <= 60; // Go allows offsets of 24h and 60m
    }

    /// <summary>Whether yaml.v3's resolve() reads the plain scalar back as a string (else it must be quoted).</summary>
    private static bool ResolvesToString(string s)
    {
        if (s.Length == 0 || NonStringWords.Contains(s)) return false;
        var c = s[0];
        if (c == '.') return !(DotFloat.IsMatch(s) && IsFiniteFloat(s));
        if (c is '+' or '-' or (>= '0' and <= '9'))
        {
            if (IsTimestamp(s)) return false;
            var plain = s.Replace("_", "", StringComparison.Ordinal);
            if (IsGoInt(plain)) return false;
            if (YamlFloat.IsMatch(plain) && IsFiniteFloat(plain)) return false;
        }
        return true;
    }

    /// <summary>strconv.ParseFloat succeeds (no overflow to infinity).</summary>
    private static bool IsFiniteFloat(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);

    /// <summary>strconv.ParseInt(s, 0, 64) or strconv.ParseUint(s, 0, 64) succeeds.</summary>
    private static bool IsGoInt(string s)
    {
        if (!GoInt.IsMatch(s)) return false;
        var signed = s[0] is '+' or '-';
        var digits = s[(signed ? 1 : 0)..];
        var radix = 10;
        if (digits.Length > 1 && digits[0] == '0')
        {
            var prefixed = char.ToLowerInvariant(digits[1]) is 'x' or 'o' or 'b';
            radix = char.ToLowerInvariant(digits[1]) switch { 'x' => 16, 'b' => 2, _ => 8 };
            digits = digits[(prefixed ? 2 : 1)..];
        }
        System.Numerics.BigInteger v = 0;
        foreach (var d in digits) v = v * radix + Convert.ToInt32(d.ToString(), 16);
        if (s[0] == '-') v = -v;
        return v >= long.MinValue && v <= long.MaxValue || !signed && v <= ulong.MaxValue;
    }
}
