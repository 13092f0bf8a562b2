using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;

namespace Portcullis.Server.Tests.Printing;

/// <summary>Shared fixtures: a fixed "now", timestamps relative to it, and rows rendered as compact JSON.</summary>
internal static class PrintingTestKit
{
    public static readonly DateTimeOffset Now = new(2025, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An RFC 3339 timestamp <paramref name="ago"/> before <see cref="Now"/>.</summary>
    public static string Ago(TimeSpan ago) =>
        (Now - ago).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A MicroTime <paramref name="ago"/> before <see cref="Now"/>.</summary>
    public static string MicroAgo(TimeSpan ago) =>
        (Now - ago).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>
    /// Fills placeholders in a JSON template: %CREATED% is five minutes before <see cref="Now"/>,
    /// and each named %KEY% is the timestamp that long ago.
    /// </summary>
    public static string Fill(string json, params (string Key, TimeSpan Ago)[] times)
    {
        json = json.Replace("%CREATED%", Ago(TimeSpan.FromMinutes(5)));
        foreach (var (key, ago) in times) json = json.Replace("%" + key + "%", Ago(ago));
        return json;
    }

    /// <summary>The row's cells as a JSON array, so strings and numbers are told apart.</summary>
    public static string Row(string group, string kind, JsonObject obj) =>
        new JsonArray(Kinds.Of(group, kind).Printer.Cells(obj, Now).Select(c => c?.DeepClone()).ToArray()).ToJsonString(Relaxed);

    public static string Row(string group, string kind, string json) => Row(group, kind, Parse(json));

    /// <summary>The column headers, wide ones marked with a trailing "*".</summary>
    public static string Headers(string group, string kind) =>
        string.Join("|", Kinds.Of(group, kind).Printer.Columns.Select(c => c.Priority == 0 ? c.Name : c.Name + "*"));

    public static string Types(string group, string kind) =>
        string.Join("|", Kinds.Of(group, kind).Printer.Columns.Select(c => c.Type));

    /// <summary>Every printer must yield one cell per column and describe each column.</summary>
    public static void AssertWellFormed(string group, string kind, JsonObject sample)
    {
        var printer = Kinds.Of(group, kind).Printer;
        Assert.Equal(printer.Columns.Count, printer.Cells(sample, Now).Count);
        Assert.All(printer.Columns, c => Assert.False(string.IsNullOrWhiteSpace(c.Description)));
        Assert.All(printer.Columns, c => Assert.Equal(c.Name == "Name" ? "name" : "", c.Format));
    }
}
