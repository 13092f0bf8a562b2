namespace Portcullis.Server.Storage;

internal static class KeyRange
{
    /// <summary>The smallest key greater than every key with this prefix (etcd's prefix end).</summary>
    public static string PrefixEnd(string prefix)
    {
        if (prefix.Length == 0) return "\uffff";
        var chars = prefix.ToCharArray();
        chars[^1]++;
        return new string(chars);
    }
}
