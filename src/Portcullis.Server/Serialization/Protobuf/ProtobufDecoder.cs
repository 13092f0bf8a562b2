using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Serialization.Protobuf;

/// <summary>
/// Decodes Kubernetes' protobuf encoding into the same JSON tree a JSON body would give, driven
/// by the schema's field numbers: the <c>k8s\0</c> magic, the runtime.Unknown envelope
/// (typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4), then the kind's message.
/// Special types decode to their JSON forms (Time → RFC 3339, Quantity → its string,
/// IntOrString → number or string, RawExtension and FieldsV1 → embedded JSON).
/// </summary>
public static class ProtobufDecoder
{
    public static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>The envelope of a body: apiVersion, kind and the raw message.</summary>
    public static (string ApiVersion, string Kind, byte[] Raw) ReadEnvelope(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4 || !body[..4].SequenceEqual(Magic))
            throw new ProtobufFormatException("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
        var r = new ProtoReader(body[4..]);
        string apiVersion = "", kind = "", encoding = "";
        byte[] raw = [];
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == 2:
                    var tm = new ProtoReader(r.ReadBytes());
                    while (!tm.End)
                    {
                        var (f, w) = tm.ReadTag();
                        if (f == 1 && w == 2) apiVersion = Encoding.UTF8.GetString(tm.ReadBytes());
                        else if (f == 2 && w == 2) kind = Encoding.UTF8.GetString(tm.ReadBytes());
                        else tm.Skip(w);
                    }
                    break;
                case 2 when wire == 2: raw = r.ReadBytes().ToArray(); break;
                case 3 when wire == 2: encoding = Encoding.UTF8.GetString(r.ReadBytes()); break;
                default: r.Skip(wire); break;
            }
        }
        if (encoding.Length > 0) throw new ProtobufFormatException($"unsupported content encoding {encoding}");
        return (apiVersion, kind, raw);
    }

    /// <summary>Decodes one message of <paramref name="schema"/>; unknown field numbers are reported by path.</summary>
    public static JsonObject DecodeMessage(ReadOnlySpan<byte> data, StructSchema schema, DecodeProblems? problems, string path = "")
    {
        var obj = new JsonObject();
        DecodeInto(obj, data, schema, problems, path);
        return obj;
    }

    private static void DecodeInto(JsonObject obj, ReadOnlySpan<byte> data, StructSchema schema, DecodeProblems? problems, string path)
    {
        var byNumber = FieldsByNumber(schema);
        var r = new ProtoReader(data);
        while (!r.End)
        {
            var (num, wire) = r.ReadTag();
            if (!byNumber.TryGetValue(num, out var f))
            {
                problems?.UnknownFields.Add(Join(path, $"<field {num}>"));
                r.Skip(wire);
                continue;
            }
            var fieldPath = Join(path, f.JsonName);
            var t = f.Type.Deref;
            if (f.Inline && t.Kind == TypeKind.Struct)
            {
                DecodeInto(obj, Expect2(ref r, wire, fieldPath), t.Struct!, problems, path);
                continue;
            }
            switch (t.Kind)
            {
                case TypeKind.Slice:
                {
                    var arr = obj[f.JsonName] as JsonArray ?? new JsonArray();
                    obj[f.JsonName] = arr;
                    var elem = t.Elem!.Deref;
                    if (wire == 2 && IsPackable(elem.Kind))
                    {
                        // Packed repeated scalars (accepted although Kubernetes' proto2 does not pack).
                        var packed = new ProtoReader(r.ReadBytes());
                        while (!packed.End) arr.Add(Scalar(ref packed, WireTypeOf(elem.Kind), elem, fieldPath));
                    }
                    else arr.Add(Value(ref r, wire, elem, problems, $"{fieldPath}[{arr.Count}]"));
                    break;
                }
                case TypeKind.Map:
                {
                    var map = obj[f.JsonName] as JsonObject ?? new JsonObject();
                    obj[f.JsonName] = map;
                    var entry = new ProtoReader(Expect2(ref r, wire, fieldPath));
                    string key = "";
                    JsonNode? value = null;
                    var valueType = t.Elem!.Deref;
                    while (!entry.End)
                    {
                        var (ef, ew) = entry.ReadTag();
                        if (ef == 1) key = Encoding.UTF8.GetString(Expect2(ref entry, ew, fieldPath));
                        else if (ef == 2)
                        {
                            if (valueType.Kind == TypeKind.Slice)
                            {
                                // A map of lists is a map of wrapper messages whose field 1 is the list.
                                var wrapper = new ProtoReader(Expect2(ref entry, ew, fieldPath));
                                var items = new JsonArray();
                                while (!wrapper.End)
                                {
                                    var (wf, ww) = wrapper.ReadTag();
                                    if (wf == 1) items.Add(Value(ref wrapper, ww, valueType.Elem!.Deref, problems, fieldPath));
                                    else wrapper.Skip(ww);
                                }
                                value = items;
                            }
                            else value = Value(ref entry, ew, valueType, problems, Join(fieldPath, key));
                        }
                        else entry.Skip(ew);
                    }
                    map[key] = value ?? ZeroValue(valueType);
                    break;
                }
                default:
                    obj[f.JsonName] = Value(ref r, wire, t, problems, fieldPath);
                    break;
            }
        }
    }

    private static JsonNode? ZeroValue(TypeRef t) => t.Kind switch
    {
        TypeKind.String or TypeKind.Bytes or TypeKind.Quantity => JsonValue.Create(""),
        TypeKind.Struct => new JsonObject(),
        _ => null,
    };

    private static JsonNode? Value(ref ProtoReader r, int wire, TypeRef t, DecodeProblems? problems, string path)
    {
        switch (t.Kind)
        {
            case TypeKind.Struct:
                return DecodeMessage(Expect2(ref r, wire, path), t.Struct!, problems, path);
            case TypeKind.Time:
            case TypeKind.MicroTime:
            {
                var m = new ProtoReader(Expect2(ref r, wire, path));
                long seconds = 0, nanos = 0;
                while (!m.End)
                {
                    var (f, w) = m.ReadTag();
                    if (f == 1 && w == 0) seconds = (long)m.ReadVarint();
                    else if (f == 2 && w == 0) nanos = (int)(long)m.ReadVarint();
                    else m.Skip(w);
                }
                // Upstream reads an all-zero timestamp as the zero time, which JSON writes as null.
                if (seconds == 0 && nanos == 0) return null;
                var dt = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
                return JsonValue.Create(t.Kind == TypeKind.Time ? ObjectShaper.FormatTime(dt) : ObjectShaper.FormatMicroTime(dt));
            }
            case TypeKind.Duration:
            {
                var m = new ProtoReader(Expect2(ref r, wire, path));
                long nanos = 0;
                while (!m.End)
                {
                    var (f, w) = m.ReadTag();
                    if (f == 1 && w == 0) nanos = (long)m.ReadVarint();
                    else m.Skip(w);
                }
                return JsonValue.Create(GoDuration.Format(nanos));
            }
            case TypeKind.Quantity:
            {
                var m = new ProtoReader(Expect2(ref r, wire, path));
                var s = "";
                while (!m.End)
                {
                    var (f, w) = m.ReadTag();
                    if (f == 1 && w == 2) s = Encoding.UTF8.GetString(m.ReadBytes());
                    else m.Skip(w);
                }
                return JsonValue.Create(s);
            }
            case TypeKind.IntOrString:
            {
                var m = new ProtoReader(Expect2(ref r, wire, path));
                long type = 0, iv = 0;
                var sv = "";
                while (!m.End)
                {
                    var (f, w) = m.ReadTag();
                    if (f == 1 && w == 0) type = (long)m.ReadVarint();
                    else if (f == 2 && w == 0) iv = (int)(long)m.ReadVarint();
                    else if (f == 3 && w == 2) sv = Encoding.UTF8.GetString(m.ReadBytes());
                    else m.Skip(w);
                }
                return type == 1 ? JsonValue.Create(sv) : JsonValue.Create(iv);
            }
            case TypeKind.RawExtension:
            case TypeKind.FieldsV1:
            case TypeKind.Json:
            {
                var m = new ProtoReader(Expect2(ref r, wire, path));
                byte[] raw = [];
                while (!m.End)
                {
                    var (f, w) = m.ReadTag();
                    if (f == 1 && w == 2) raw = m.ReadBytes().ToArray();
                    else m.Skip(w);
                }
                if (raw.Length == 0) return null;
                try { return JsonParser.Parse(raw); }
                catch (System.Text.Json.JsonException e) { throw new ProtobufFormatException($"{path}: embedded JSON: {e.Message}"); }
            }
            default:
                return Scalar(ref r, wire, t, path);
        }
    }

    private static JsonNode? Scalar(ref ProtoReader r, int wire, TypeRef t, string path)
    {
        switch (t.Kind)
        {
            case TypeKind.String:
                return JsonValue.Create(Utf8(Expect2(ref r, wire, path), path));
            case TypeKind.Bytes:
                return JsonValue.Create(Convert.ToBase64String(Expect2(ref r, wire, path)));
            case TypeKind.Bool:
                ExpectWire(wire, 0, path);
                return JsonValue.Create(r.ReadVarint() != 0);
            case TypeKind.Int32:
                ExpectWire(wire, 0, path);
                return JsonValue.Create((long)(int)(long)r.ReadVarint());
            case TypeKind.Int64:
                ExpectWire(wire, 0, path);
                return JsonValue.Create((long)r.ReadVarint());
            case TypeKind.Float64:
                if (wire == 1) return JsonValue.Create(BitConverter.UInt64BitsToDouble(r.ReadFixed64()));
                if (wire == 5) return JsonValue.Create((double)BitConverter.UInt32BitsToSingle(r.ReadFixed32()));
                throw new ProtobufFormatException($"{path}: wrong wire type {wire} for a double");
            default:
                throw new ProtobufFormatException($"{path}: cannot decode {t.Kind}");
        }
    }

    private static string Utf8(ReadOnlySpan<byte> b, string path)
    {
        try { return new UTF8Encoding(false, true).GetString(b); }
        catch (DecoderFallbackException) { throw new ProtobufFormatException($"{path}: invalid UTF-8 in string"); }
    }

    private static bool IsPackable(TypeKind k) => k is TypeKind.Bool or TypeKind.Int32 or TypeKind.Int64 or TypeKind.Float64;
    private static int WireTypeOf(TypeKind k) => k == TypeKind.Float64 ? 1 : 0;

    private static ReadOnlySpan<byte> Expect2(ref ProtoReader r, int wire, string path)
    {
        ExpectWire(wire, 2, path);
        return r.ReadBytes();
    }

    private static void ExpectWire(int wire, int expected, string path)
    {
        if (wire != expected) throw new ProtobufFormatException($"proto: wrong wireType = {wire} for field {path}");
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<StructSchema, Dictionary<int, FieldSchema>> NumberMaps = new();

    private static Dictionary<int, FieldSchema> FieldsByNumber(StructSchema s) =>
        NumberMaps.GetValue(s, x => x.Declared.Where(f => f.ProtoNumber > 0).GroupBy(f => f.ProtoNumber).ToDictionary(g => g.Key, g => g.First()));

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;
}

/// <summary>Go's time.Duration.String().</summary>
public static class GoDuration
{
    public static string Format(long nanos)
    {
        if (nanos == 0) return "0s";
        var neg = nanos < 0;
        var u = (ulong)(neg ? -nanos : nanos);
        string s;
        if (u < 1_000_000_000)
        {
            // Sub-second: ns, µs or ms with a fraction.
            (ulong unit, string suffix) = u < 1_000 ? (1UL, "ns") : u < 1_000_000 ? (1_000UL, "µs") : (1_000_000UL, "ms");
            s = Fraction(u, unit) + suffix;
        }
        else
        {
            var secs = u / 1_000_000_000;
            var frac = u % 1_000_000_000;
            var h = secs / 3600;
            var m = secs / 60 % 60;
            var sec = secs % 60;
            var secText = frac == 0 ? sec.ToString(CultureInfo.InvariantCulture)
                : sec.ToString(CultureInfo.InvariantCulture) + "." + frac.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
            s = h > 0 ? $"{h}h{m}m{secText}s" : m > 0 ? $"{m}m{secText}s" : $"{secText}s";
        }
        return neg ? "-" + s : s;
    }

    private static string Fraction(ulong v, ulong unit)
    {
        var whole = v / unit;
        var frac = v % unit;
        if (frac == 0) return whole.ToString(CultureInfo.InvariantCulture);
        var digits = unit == 1_000 ? 3 : 6;
        return whole.ToString(CultureInfo.InvariantCulture) + "." + frac.ToString("D" + digits, CultureInfo.InvariantCulture).TrimEnd('0');
    }
}
