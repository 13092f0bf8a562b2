using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission;

/// <summary>
/// --admission-control-config-file in upstream's format: an AdmissionConfiguration
/// (apiserver.config.k8s.io/v1, or the older apiserver.config.k8s.io/v1alpha1 and
/// apiserver.k8s.io/v1alpha1), YAML or JSON, whose <c>plugins</c> entries give each plugin's
/// configuration inline (<c>configuration</c>) or in a file (<c>path</c>, relative to the
/// configuration file's directory).
/// </summary>
public sealed class AdmissionConfigurationFile
{
    private static readonly string[] ApiVersions = ["apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1alpha1", "apiserver.k8s.io/v1alpha1"];

    private readonly Dictionary<string, JsonObject> _configs = new(StringComparer.Ordinal);

    public static AdmissionConfigurationFile Empty { get; } = new();

    /// <summary>The plugin's configuration object, or null when the file gives none.</summary>
    public JsonObject? For(string plugin) => _configs.GetValueOrDefault(plugin);

    /// <summary>Reads the file (null path: no configuration).</summary>
    /// <exception cref="ArgumentException">unreadable or invalid configuration, with the reason.</exception>
    public static AdmissionConfigurationFile Load(string? path)
    {
        if (string.IsNullOrEmpty(path)) return Empty;
        var full = Path.GetFullPath(path);
        var root = ReadObject(full, "admission configuration");
        var apiVersion = JsonRead.StrOrEmpty(root, "apiVersion");
        var kind = JsonRead.StrOrEmpty(root, "kind");
        if (kind != "AdmissionConfiguration" || !ApiVersions.Contains(apiVersion))
            throw new ArgumentException($"failed to read admission control configuration from \"{path}\": expected kind AdmissionConfiguration in one of {string.Join(", ", ApiVersions)}, got {apiVersion}/{kind}");
        var result = new AdmissionConfigurationFile();
        if (root["plugins"] is not (null or JsonArray))
            throw new ArgumentException($"failed to read admission control configuration from \"{path}\": plugins must be a list");
        foreach (var entry in root["plugins"] as JsonArray ?? [])
        {
            if (entry is not JsonObject p) throw new ArgumentException($"failed to read admission control configuration from \"{path}\": a plugins entry is not an object");
            var name = JsonRead.StrOrEmpty(p, "name");
            if (name.Length == 0) throw new ArgumentException($"failed to read admission control configuration from \"{path}\": a plugins entry has no name");
            JsonObject? config = null;
            if (p["configuration"] is JsonObject inline) config = inline;
            else if (JsonRead.StrOrEmpty(p, "path") is { Length: > 0 } rel)
            {
                var pluginPath = Path.IsPathRooted(rel) ? rel : Path.Combine(Path.GetDirectoryName(full)!, rel);
                config = ReadObject(pluginPath, $"configuration of admission plugin {name}");
            }
            if (config is not null) result._configs[name] = config;
        }
        return result;
    }

    private static JsonObject ReadObject(string path, string what)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"failed to read {what} from \"{path}\": {e.Message}", e);
        }
        try
        {
            var node = text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : YamlCodec.ToJson(text);
            return node as JsonObject ?? throw new ArgumentException($"failed to read {what} from \"{path}\": not an object");
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new ArgumentException($"failed to read {what} from \"{path}\": {e.Message}", e);
        }
    }

}
