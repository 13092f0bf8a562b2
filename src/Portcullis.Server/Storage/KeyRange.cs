namespace Portcullis.Server.Storage;

internal static class KeyRange
{
    /// <summary>The smallest key greater than every key with this prefix (etcd's prefix end).</summary>
    public static string PrefixEnd(string prefix)
    {
        // Keys compare as UTF-8 bytes; no UTF-8 sequence starts with 0xF5 or above, so a string of
        // the highest code point sorts after every key for the empty prefix.
        if (prefix.Length == 0 || prefix[^1] == '\uffff' || char.IsSurrogate(prefix[^1]))
            return prefix.TrimEnd('\uffff') + string.Concat(Enumerable.Repeat("\U0010FFFF", 64));
        var chars = prefix.ToCharArray();
        chars[^1]++;
        return new string(chars);
    }
}
