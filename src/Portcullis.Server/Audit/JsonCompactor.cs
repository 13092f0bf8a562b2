namespace Portcullis.Server.Audit;

/// <summary>
/// Removes the whitespace outside strings from JSON text, as Go's json.Marshal compacts a json.Marshaler's output
/// (runtime.Unknown's raw bytes): a pretty response body is recorded as compact JSON without being parsed.
/// </summary>
public static class JsonCompactor
{
    public static byte[] Compact(ReadOnlySpan<byte> json)
    {
        var output = new byte[json.Length];
        var n = 0;
        bool inString = false, escaped = false;
        foreach (var b in json)
        {
            if (inString)
            {
                output[n++] = b;
                if (escaped) escaped = false;
                else if (b == '\\') escaped = true;
                else if (b == '"') inString = false;
                continue;
            }
            if (b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') continue;
            if (b == '"') inString = true;
            output[n++] = b;
        }
        return output.AsSpan(0, n).ToArray();
    }
}
