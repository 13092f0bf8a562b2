using System.Globalization;
using System.Text;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>The field manager's name: the fieldManager parameter, or else taken from the User-Agent.</summary>
public static class ManagerName
{
    /// <summary>Upstream's FieldManagerMaxLength (bytes of UTF-8).</summary>
    public const int MaxLength = 128;

    /// <summary>The manager of a request: the fieldManager parameter when given, else the User-Agent's prefix.</summary>
    public static string Resolve(string? fieldManager, string? userAgent) =>
        string.IsNullOrEmpty(fieldManager) ? FromUserAgent(userAgent ?? "") : fieldManager;

    /// <summary>
    /// What precedes the first '/' of the User-Agent, without unprintable characters, cut at
    /// 128 bytes (<c>kubectl/v1.33.0 (linux/amd64) kubernetes/abc</c> → <c>kubectl</c>).
    /// </summary>
    public static string FromUserAgent(string userAgent)
    {
        var slash = userAgent.IndexOf('/');
        var prefix = slash >= 0 ? userAgent[..slash] : userAgent;
        var sb = new StringBuilder();
        var bytes = 0;
        foreach (var r in prefix.EnumerateRunes())
        {
            // Lone surrogates decode as U+FFFD, as Go's range over invalid UTF-8 does.
            if (!Serialization.GoText.IsPrint(r.Value)) continue;
            if (bytes + r.Utf8SequenceLength > MaxLength) break;
            bytes += r.Utf8SequenceLength;
            sb.Append(r.ToString());
        }
        return sb.ToString();
    }

    /// <summary>
    /// Upstream's ValidateFieldManager for the fieldManager query parameter: at most 128 bytes,
    /// printable characters only. The errors go into an Invalid status for CreateOptions,
    /// UpdateOptions or PatchOptions (group meta.k8s.io, empty name).
    /// </summary>
    public static List<FieldError> Validate(string? fieldManager, string field = "fieldManager")
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrEmpty(fieldManager)) return errors;
        if (Encoding.UTF8.GetByteCount(fieldManager) > MaxLength)
            errors.Add(FieldError.TooLong(field, $"may not be more than {MaxLength} bytes"));
        var offset = 0;
        foreach (var r in fieldManager.EnumerateRunes())
        {
            if (!Serialization.GoText.IsPrint(r.Value))
                errors.Add(FieldError.Invalid(field, fieldManager,
                    $"invalid character U+{r.Value.ToString("X4", CultureInfo.InvariantCulture)} (at position {offset})"));
            offset += r.Utf8SequenceLength;
        }
        return errors;
    }
}
