using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// The tag of a container image reference as kubelet's parsers.ParseImageName sees it: the
/// reference is normalized as distribution/reference's ParseNormalizedNamed does (familiar
/// names on docker.io), an untagged, undigested reference means "latest", and a reference that
/// does not parse has no tag at all.
/// </summary>
internal static partial class ImageReference
{
    private const string DefaultDomain = "docker.io";
    private const string LegacyDefaultDomain = "index.docker.io";
    private const int NameTotalLengthMax = 255;

    // distribution/reference's grammar, with Go's ASCII-only \w spelled out.
    private const string Alnum = "[a-z0-9]+";
    private const string Separator = "(?:[._]|__|[-]+)";
    private const string PathComponent = Alnum + "(?:" + Separator + Alnum + ")*";
    private const string DomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string DomainName = DomainComponent + @"(?:\." + DomainComponent + ")*";
    private const string Host = "(?:" + DomainName + @"|\[(?:[a-fA-F0-9:]+)\])";
    private const string DomainAndPort = Host + "(?::[0-9]+)?";
    private const string Name = "(?:" + DomainAndPort + "/)?" + PathComponent + "(?:/" + PathComponent + ")*";
    private const string Tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string Digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

    [GeneratedRegex("^(" + Name + ")(?::(" + Tag + "))?(?:@(" + Digest + "))?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ReferencePattern();

    [GeneratedRegex("^[a-f0-9]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[a-f0-9]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex LowerHexPattern();

    /// <summary>The image's tag ("latest" when it has neither tag nor digest), "" when it has only a digest, null when it does not parse.</summary>
    public static string? TagOf(string image)
    {
        if (IdentifierPattern().IsMatch(image)) return null;
        var (domain, remainder) = SplitDockerDomain(image);
        var colon = remainder.IndexOf(':');
        var remote = colon >= 0 ? remainder[..colon] : remainder;
        if (!string.Equals(remote.ToLowerInvariant(), remote, StringComparison.Ordinal)) return null;

        var m = ReferencePattern().Match(domain + "/" + remainder);
        if (!m.Success) return null;
        if (m.Groups[1].Length > NameTotalLengthMax) return null;
        var digest = m.Groups[3].Value;
        if (digest.Length > 0 && !ValidDigest(digest)) return null;
        var tag = m.Groups[2].Value;
        return tag.Length == 0 && digest.Length == 0 ? "latest" : tag;
    }

    /// <summary>SetDefaults_Container's pull policy: Always for the "latest" tag, IfNotPresent otherwise.</summary>
    public static string DefaultPullPolicy(string? image)
        => TagOf(image ?? "") == "latest" ? "Always" : "IfNotPresent";

    private static (string Domain, string Remainder) SplitDockerDomain(string name)
    {
        var slash = name.IndexOf('/');
        if (slash < 0) return (DefaultDomain, "library/" + name);
        var maybeDomain = name[..slash];
        var maybeRemote = name[(slash + 1)..];
        string domain, remote;
        if (maybeDomain == "localhost") (domain, remote) = (maybeDomain, maybeRemote);
        else if (maybeDomain == LegacyDefaultDomain) (domain, remote) = (DefaultDomain, maybeRemote);
        else if (maybeDomain.Contains('.') || maybeDomain.Contains(':')) (domain, remote) = (maybeDomain, maybeRemote);
        else if (!string.Equals(maybeDomain.ToLowerInvariant(), maybeDomain, StringComparison.Ordinal)) (domain, remote) = (maybeDomain, maybeRemote);
        else (domain, remote) = (DefaultDomain, name);
        if (domain == DefaultDomain && !remote.Contains('/')) remote = "library/" + remote;
        return (domain, remote);
    }

    // go-digest: only registered algorithms, with their exact lower-case hex length.
    private static bool ValidDigest(string digest)
    {
        var colon = digest.IndexOf(':');
        if (colon <= 0 || colon + 1 == digest.Length) return false;
        var hexLength = digest[..colon] switch { "sha256" => 64, "sha384" => 96, "sha512" => 128, _ => -1 };
        var encoded = digest[(colon + 1)..];
        return hexLength > 0 && encoded.Length == hexLength && LowerHexPattern().IsMatch(encoded);
    }
}
