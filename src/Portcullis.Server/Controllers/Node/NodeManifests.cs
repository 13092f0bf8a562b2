using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Node;

/// <summary>
/// The file of <c>serve --node-manifests</c>: Node manifests as kwok takes them — YAML documents separated by
/// <c>---</c> lines (JSON is YAML too), each a Node or a v1 List of Nodes. What the nodes' kubelets use of each is
/// written in <see cref="NodeIdentity.CreateAll"/>.
/// </summary>
public static class NodeManifests
{
    /// <exception cref="ArgumentException">the file cannot be read, is malformed, or holds anything but Nodes; the message says which document.</exception>
    public static List<JsonObject> Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ArgumentException($"--node-manifests {path}: {e.Message}", e); }
        return Parse(text, path);
    }

    public static List<JsonObject> Parse(string text, string source)
    {
        var nodes = new List<JsonObject>();
        var index = 0;
        foreach (var doc in Documents(text))
        {
            index++;
            JsonNode? parsed;
            try { parsed = YamlCodec.ToJson(doc); }
            catch (FormatException e) { throw new ArgumentException($"{source}: document {index}: {e.Message}", e); }
            if (parsed is null) continue;
            if (parsed is not JsonObject o) throw new ArgumentException($"{source}: document {index} is not an object");
            var kind = JsonRead.StrOrEmpty(o, "kind");
            if (kind == "List" || kind.EndsWith("List", StringComparison.Ordinal) && o["items"] is JsonArray)
            {
                foreach (var item in (o["items"] as JsonArray) ?? [])
                    nodes.Add(AsNode(item, source, index));
            }
            else nodes.Add(AsNode(o, source, index));
        }
        return nodes;
    }

    private static JsonObject AsNode(JsonNode? item, string source, int index)
    {
        if (item is not JsonObject o || JsonRead.StrOrEmpty(o, "kind") is not ("Node" or ""))
            throw new ArgumentException($"{source}: document {index}: only Node manifests are accepted, not {JsonRead.Str(item?["kind"]) ?? "this"}");
        if (JsonRead.StrOrEmpty(o["metadata"], "name").Length == 0)
            throw new ArgumentException($"{source}: document {index}: a Node needs metadata.name");
        return o;
    }

    /// <summary>Documents as apimachinery's YAMLReader splits them: a line starting with <c>---</c> ends a document.</summary>
    private static IEnumerable<string> Documents(string text)
    {
        var current = new System.Text.StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("---", StringComparison.Ordinal))
            {
                if (current.ToString().Trim().Length > 0) yield return current.ToString();
                current.Clear();
            }
            else current.Append(line).Append('\n');
        }
        if (current.ToString().Trim().Length > 0) yield return current.ToString();
    }
}
