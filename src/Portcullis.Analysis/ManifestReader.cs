using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>A manifest that cannot be read; the message is one line and names the file.</summary>
public sealed class ManifestException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads Kubernetes objects from manifests: a file, a directory walked recursively for
/// <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> (in ordinal path order), or <c>-</c> for standard
/// input. YAML files may hold several documents (split on <c>---</c> lines as apimachinery's
/// YAMLReader does), each converted with the server's own YAML reader; JSON is read with the
/// server's JSON parser. A <c>List</c> (<c>kind: List</c>, or any kind ending in <c>List</c> with
/// <c>items</c>) is flattened into its items. Empty documents are skipped.
/// </summary>
public static class ManifestReader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>The objects of every path, in order; <paramref name="stdin"/> is read for <c>-</c> (once).</summary>
    /// <exception cref="ManifestException">a path that does not exist or a document that cannot be read.</exception>
    public static List<JsonObject> Read(IEnumerable<string> paths, TextReader? stdin = null)
    {
        var objects = new List<JsonObject>();
        var stdinRead = false;
        foreach (var path in paths)
        {
            if (path == "-")
            {
                if (stdinRead) continue;
                stdinRead = true;
                var text = (stdin ?? Console.In).ReadToEnd();
                var trimmed = text.TrimStart();
                objects.AddRange(Parse(Encoding.UTF8.GetBytes(text), "<stdin>", json: trimmed.StartsWith('{') || trimmed.StartsWith('[')));
            }
            else if (Directory.Exists(path))
            {
                List<string> files;
                try
                {
                    files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                        .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                        .Order(StringComparer.Ordinal).ToList();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ManifestException($"{path}: {e.Message}", e); }
                foreach (var f in files) objects.AddRange(ReadFile(f));
            }
            else if (File.Exists(path)) objects.AddRange(ReadFile(path));
            else throw new ManifestException($"{path}: no such file or directory");
        }
        return objects;
    }

    private static List<JsonObject> ReadFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ManifestException($"{path}: {e.Message}", e); }
        return Parse(bytes, path, json: string.Equals(Path.GetExtension(path), ".json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The objects in one file's content; <paramref name="source"/> names it in errors.</summary>
    public static List<JsonObject> Parse(byte[] content, string source, bool json)
    {
        var objects = new List<JsonObject>();
        if (json)
        {
            JsonNode? node;
            try { node = JsonParser.Parse(content); }
            catch (JsonException e) { throw new ManifestException($"{source}: {OneLine(e.Message)}", e); }
            Add(node, source, 1, objects);
            return objects;
        }
        var doc = 0;
        foreach (var text in SplitYamlDocuments(content, source))
        {
            doc++;
            JsonNode? node;
            try { node = YamlCodec.ToJson(text); }
            catch (FormatException e) { throw new ManifestException($"{source}: document {doc}: {OneLine(e.Message)}", e); }
            Add(node, source, doc, objects);
        }
        return objects;
    }

    private static void Add(JsonNode? node, string source, int doc, List<JsonObject> into)
    {
        switch (node)
        {
            case null:
                return; // an empty document (only comments, or nothing)
            case JsonObject o when o["items"] is JsonArray items && KindOf(o).EndsWith("List", StringComparison.Ordinal):
                foreach (var item in items)
                {
                    if (item is not JsonObject io) throw new ManifestException($"{source}: document {doc}: a list item is not an object");
                    into.Add(io);
                }
                return;
            case JsonObject o:
                into.Add(o);
                return;
            default:
                throw new ManifestException($"{source}: document {doc}: not an object");
        }
    }

    private static string KindOf(JsonObject o) => o["kind"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    /// <summary>
    /// Documents as apimachinery's YAMLReader splits them: a line starting with <c>---</c> ends a
    /// document; only spaces or a comment may follow the separator on its line.
    /// </summary>
    private static IEnumerable<byte[]> SplitYamlDocuments(byte[] content, string source)
    {
        var current = new MemoryStream();
        var start = 0;
        while (start < content.Length)
        {
            var nl = Array.IndexOf(content, (byte)'\n', start);
            var end = nl < 0 ? content.Length : nl + 1;
            var line = content.AsSpan(start, end - start);
            if (line.StartsWith("---"u8))
            {
                var rest = Encoding.UTF8.GetString(line[3..]).Trim();
                if (rest.Length > 0 && rest[0] != '#')
                    throw new ManifestException($"{source}: invalid Yaml document separator: {rest}");
                if (current.Length > 0) yield return current.ToArray();
                current = new MemoryStream();
            }
            else current.Write(line);
            start = end;
        }
        if (current.Length > 0) yield return current.ToArray();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
