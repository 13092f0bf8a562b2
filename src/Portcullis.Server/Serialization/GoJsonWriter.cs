using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Serialization;

/// <summary>
/// Writes JSON byte for byte as Go's encoding/json does: keys in the order of the node (callers
/// shape objects into Go struct order first), Go's string escaping (<c>\u003c</c>, <c>\u003e</c>,
/// <c>\u0026</c>, <c>\u2028</c>, <c>\u2029</c>, control characters, invalid UTF-8 as U+FFFD, and
/// nothing else), and json.MarshalIndent's layout with two spaces when pretty.
/// </summary>
public static class GoJsonWriter
{
    public static byte[] ToBytes(JsonNode? node, bool pretty = false)
    {
        var buf = new ArrayBufferWriter<byte>(512);
        Write(buf, node, pretty);
        return buf.WrittenSpan.ToArray();
    }

    public static string ToString(JsonNode? node, bool pretty = false) => Encoding.UTF8.GetString(ToBytes(node, pretty));

    public static void Write(IBufferWriter<byte> w, JsonNode? node, bool pretty)
    {
        var state = new Writer(w, pretty);
        state.Value(node, 0);
    }

    private readonly struct Writer(IBufferWriter<byte> w, bool pretty)
    {
        public void Value(JsonNode? node, int depth)
        {
            switch (node)
            {
                case null: Raw("null"u8); break;
                case JsonObject o: Object(o, depth); break;
                case JsonArray a: Array(a, depth); break;
                case JsonValue v: Scalar(v); break;
            }
        }

        private void Object(JsonObject o, int depth)
        {
            if (o.Count == 0) { Raw("{}"u8); return; }
            Raw("{"u8);
            var first = true;
            foreach (var (k, v) in o)
            {
                if (!first) Raw(","u8);
                first = false;
                Newline(depth + 1);
                String(k);
                Raw(pretty ? ": "u8 : ":"u8);
                Value(v, depth + 1);
            }
            Newline(depth);
            Raw("}"u8);
        }

        private void Array(JsonArray a, int depth)
        {
            if (a.Count == 0) { Raw("[]"u8); return; }
            Raw("["u8);
            for (var i = 0; i < a.Count; i++)
            {
                if (i > 0) Raw(","u8);
                Newline(depth + 1);
                Value(a[i], depth + 1);
            }
            Newline(depth);
            Raw("]"u8);
        }

        private void Scalar(JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.String: String(v.GetValue<string>()); break;
                case JsonValueKind.True: Raw("true"u8); break;
                case JsonValueKind.False: Raw("false"u8); break;
                case JsonValueKind.Null: Raw("null"u8); break;
                case JsonValueKind.Number: Number(v); break;
                default: Raw("null"u8); break;
            }
        }

        private void Number(JsonValue v)
        {
            if (v.TryGetValue<long>(out var l)) { Ascii(l.ToString(System.Globalization.CultureInfo.InvariantCulture)); return; }
            if (v.TryGetValue<int>(out var i)) { Ascii(i.ToString(System.Globalization.CultureInfo.InvariantCulture)); return; }
            if (v.TryGetValue<JsonElement>(out var e)) { Ascii(e.GetRawText()); return; }
            if (v.TryGetValue<double>(out var d)) { Ascii(GoText.JsonFloat(d)); return; }
            Ascii(v.ToJsonString());
        }

        private void Newline(int depth)
        {
            if (!pretty) return;
            var span = w.GetSpan(1 + depth * 2);
            span[0] = (byte)'\n';
            span.Slice(1, depth * 2).Fill((byte)' ');
            w.Advance(1 + depth * 2);
        }

        private void Raw(ReadOnlySpan<byte> bytes) => w.Write(bytes);

        private void Ascii(string s)
        {
            var span = w.GetSpan(s.Length);
            for (var i = 0; i < s.Length; i++) span[i] = (byte)s[i];
            w.Advance(s.Length);
        }

        public void String(string s)
        {
            var max = Encoding.UTF8.GetMaxByteCount(s.Length) * 6 / 3 + 2;
            var span = w.GetSpan(Math.Max(max, s.Length * 6 + 2));
            var n = 0;
            span[n++] = (byte)'"';
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                if (c < 0x80)
                {
                    if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&')
                    {
                        span[n++] = (byte)c;
                        continue;
                    }
                    switch (c)
                    {
                        case '"': span[n++] = (byte)'\\'; span[n++] = (byte)'"'; break;
                        case '\\': span[n++] = (byte)'\\'; span[n++] = (byte)'\\'; break;
                        case '\n': span[n++] = (byte)'\\'; span[n++] = (byte)'n'; break;
                        case '\r': span[n++] = (byte)'\\'; span[n++] = (byte)'r'; break;
                        case '\t': span[n++] = (byte)'\\'; span[n++] = (byte)'t'; break;
                        case '\b': span[n++] = (byte)'\\'; span[n++] = (byte)'b'; break;
                        case '\f': span[n++] = (byte)'\\'; span[n++] = (byte)'f'; break;
                        default: n += Unicode(span[n..], c); break;
                    }
                    continue;
                }
                if (c == '\u2028' || c == '\u2029') { n += Unicode(span[n..], c); continue; }
                int cp = c;
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    cp = char.ConvertToUtf32(c, s[++i]);
                else if (char.IsSurrogate(c))
                    cp = 0xFFFD; // Go replaces invalid UTF-8 with U+FFFD
                n += new Rune(cp).EncodeToUtf8(span[n..]);
            }
            span[n++] = (byte)'"';
            w.Advance(n);
        }

        private static int Unicode(Span<byte> dst, char c)
        {
            const string hex = "0123456789abcdef";
            dst[0] = (byte)'\\'; dst[1] = (byte)'u';
            dst[2] = (byte)hex[(c >> 12) & 0xF]; dst[3] = (byte)hex[(c >> 8) & 0xF];
            dst[4] = (byte)hex[(c >> 4) & 0xF]; dst[5] = (byte)hex[c & 0xF];
            return 6;
        }
    }
}
