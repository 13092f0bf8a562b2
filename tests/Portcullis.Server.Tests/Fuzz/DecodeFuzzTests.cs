using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Portcullis.Fuzzing;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of everything a request body goes through before storage: decoding
/// (JSON, YAML, protobuf), defaulting, validation, the three patch types, printing and
/// encoding. The property: each step either succeeds or refuses with an <see cref="ApiException"/>
/// below 500 (a Status the client can act on); any other exception would be a 500 on the wire.
/// Iterations: <c>PORTCULLIS_FUZZ_ITER</c> (a few thousand in CI; <c>scripts/fuzz.sh</c> runs more).
/// </summary>
public sealed class DecodeFuzzTests
{
    private static readonly long Iter = long.TryParse(Environment.GetEnvironmentVariable("PORTCULLIS_FUZZ_ITER"), out var n) ? n : 2000;

    private sealed record Seed(ResourceDefinition Def, string MediaType, byte[] Body)
    {
        public bool Raw { get; init; }
        public override string ToString() => $"{Def.Kind} {MediaType} ({Body.Length} bytes)";
    }

    public sealed record Case(string Kind, string MediaType, byte[] Body)
    {
        public override string ToString() => $"{Kind} as {MediaType}: {BodyMutator.Printable(Body)}";
    }

    private static readonly Seed[] Corpus = LoadCorpus();

    private static Seed[] LoadCorpus()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "TestData");
        var files = Directory.GetFiles(Path.Combine(dir, "protobuf")).Concat(Directory.GetFiles(Path.Combine(dir, "fuzz")));
        var seeds = new List<Seed>();
        foreach (var f in files.Order(StringComparer.Ordinal))
        {
            var kind = Path.GetFileName(f).Split('.')[0];
            var def = BuiltinResources.All.FirstOrDefault(d => d.Kind == kind);
            if (def is null) continue;
            var bytes = File.ReadAllBytes(f);
            if (f.EndsWith(".pb", StringComparison.Ordinal)) { seeds.Add(new(def, Responses.Protobuf, bytes)); continue; }
            // YAML written by hand (anchors, flow style, quoting): mutated as text.
            if (f.EndsWith(".yaml", StringComparison.Ordinal)) { seeds.Add(new(def, Responses.Yaml, bytes) { Raw = true }); continue; }
            seeds.Add(new(def, Responses.Json, bytes));
            seeds.Add(new(def, Responses.Yaml, Encoding.UTF8.GetBytes(YamlCodec.ToYaml(JsonNode.Parse(bytes)))));
        }
        return seeds.ToArray();
    }

    private static readonly Gen<Case> Bodies =
        Gen.Select(Gen.Int[0, Corpus.Length - 1], Gen.Int, Gen.Int[1, 6], (i, seed, steps) =>
        {
            var s = Corpus[i];
            var r = new Random(seed);
            var body = s.MediaType switch
            {
                // YAML: mutate the JSON form structurally, then write it as YAML, sometimes damaged as text.
                Responses.Yaml when s.Raw => BodyMutator.Mutate(s.Body, r, steps, json: false),
                Responses.Yaml => YamlOf(BodyMutator.Mutate(JsonSeed(s.Def), r, steps, json: true), r),
                Responses.Json => BodyMutator.Mutate(s.Body, r, steps, json: true),
                _ => BodyMutator.Mutate(s.Body, r, steps, json: false),
            };
            return new Case(s.Def.Kind, s.MediaType, body);
        });

    private static byte[] JsonSeed(ResourceDefinition def) =>
        Corpus.First(c => c.Def == def && c.MediaType == Responses.Json).Body;

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "fuzz", name));

    private static byte[] YamlOf(byte[] json, Random r)
    {
        byte[] yaml;
        // A body .NET's JSON model cannot hold (a lone surrogate, a duplicate key) stays JSON: YAML's superset.
        try { yaml = Encoding.UTF8.GetBytes(YamlCodec.ToYaml(JsonNode.Parse(json))); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or ArgumentException) { return json; }
        return r.Next(3) == 0 ? BodyMutator.Mutate(yaml, r, 2, json: false) : yaml;
    }

    /// <summary>Runs one step of the request path; a refusal must be a client error.</summary>
    private static void Refusable(Action step)
    {
        try { step(); }
        catch (ApiException e) when (e.Code < 500) { }
    }

    private static void CreatePath(Case c)
    {
        var def = BuiltinResources.All.First(d => d.Kind == c.Kind);
        Refusable(() =>
        {
            var obj = BodyDecoder.DecodeObject(c.Body, c.MediaType, def, "Strict", []);
            def.Strategy.Default(obj);
            var errs = MetadataValidation.ValidateCreate(def, obj);
            errs.AddRange(def.Strategy.Validate(obj, null));
            // Whatever validation says, the error itself must be writable as a Status.
            if (errs.Count > 0) _ = GoJsonWriter.ToBytes(ApiErrors.Invalid(def.Kind, def.Group, "x", errs).ToStatus());
            else
            {
                _ = GoJsonWriter.ToBytes(obj);
                _ = Conversions.ToTable(def, obj, false, "", DateTimeOffset.UnixEpoch);
            }
        });
    }

    [Fact]
    public void Corpus_covers_json_yaml_and_protobuf()
    {
        Assert.Contains(Corpus, s => s.MediaType == Responses.Protobuf);
        Assert.Contains(Corpus, s => s.MediaType == Responses.Yaml && s.Def.Kind == "Pod");
        // Every seed is valid as it stands: the fuzzer starts from requests a server accepts.
        foreach (var s in Corpus)
            BodyDecoder.DecodeObject(s.Body, s.MediaType, s.Def, "Ignore", []);
    }

    [Fact]
    public void Mutated_bodies_are_stored_or_refused_with_a_client_error() =>
        Bodies.Sample(CreatePath, iter: Iter, threads: 1);

    // ---- patches --------------------------------------------------------------------------

    private static readonly string[] PatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

    private static readonly string[] Paths =
        ["/metadata/labels/x", "/metadata/labels", "/spec/containers/0/image", "/spec/containers/-", "/spec/containers/9",
         "/metadata/finalizers/0", "/spec/terminationGracePeriodSeconds", "", "/", "x", "/~2", "/spec/containers/0/ports/0/containerPort",
         "/metadata/annotations/a~1b", "/status", "/spec/volumes/1", "/spec/containers/-1", "/spec/containers/00"];

    /// <summary>A JSON patch built from edge values: ops, paths and values of any type.</summary>
    private static string JsonPatchOf(Random r)
    {
        var ops = new List<string>();
        for (var i = 0; i < 1 + r.Next(3); i++)
        {
            var op = r.Next(8) switch
            {
                0 => "1", 1 => "null", 2 => "\"bogus\"",
                _ => "\"" + new[] { "add", "remove", "replace", "move", "copy", "test" }[r.Next(6)] + "\"",
            };
            string Pathish() => r.Next(6) == 0 ? BodyMutator.EdgeValues[r.Next(BodyMutator.EdgeValues.Length)]
                : "\"" + Paths[r.Next(Paths.Length)] + "\"";
            var fields = new List<string> { $"\"op\":{op}" };
            if (r.Next(8) != 0) fields.Add($"\"path\":{Pathish()}");
            if (r.Next(3) == 0) fields.Add($"\"from\":{Pathish()}");
            if (r.Next(4) != 0) fields.Add($"\"value\":{BodyMutator.EdgeValues[r.Next(BodyMutator.EdgeValues.Length)]}");
            ops.Add("{" + string.Join(",", fields) + "}");
        }
        return "[" + string.Join(",", ops) + "]";
    }

    private static readonly byte[] PodJson = Fixture("Pod.json");

    /// <summary>A valid patch of each type that uses every operation or directive, to mutate.</summary>
    private static readonly Dictionary<string, byte[]> PatchSeeds = new()
    {
        ["application/json-patch+json"] = Fixture("patch.json-patch.json"),
        ["application/merge-patch+json"] = Fixture("patch.merge.json"),
        ["application/strategic-merge-patch+json"] = Fixture("patch.strategic.json"),
    };

    private static readonly Gen<Case> Patches =
        Gen.Select(Gen.Int[0, PatchTypes.Length - 1], Gen.Int, Gen.Int[1, 5], (t, seed, steps) =>
        {
            var r = new Random(seed);
            var type = PatchTypes[t];
            var body = r.Next(3) switch
            {
                // The type's own seed, damaged structurally or as bytes.
                0 => BodyMutator.Mutate(PatchSeeds[type], r, steps, json: r.Next(2) == 0),
                // A JSON patch of edge values; for the merge types, a mutated object of the kind is a patch of it.
                _ => type == "application/json-patch+json"
                    ? Encoding.UTF8.GetBytes(JsonPatchOf(r))
                    : BodyMutator.Mutate(PodJson, r, steps, json: true),
            };
            return new Case("Pod", type, body);
        });

    private static void PatchPath(Case c)
    {
        var def = BuiltinResources.All.First(d => d.Kind == "Pod");
        var current = (JsonObject)JsonNode.Parse(PodJson)!;
        Refusable(() =>
        {
            var patch = BodyDecoder.ParseRaw(c.Body, c.MediaType, null);
            var patched = Patcher.Apply(c.MediaType, current, patch, def);
            var bytes = GoJsonWriter.ToBytes(patched);
            // The patched object is decoded again as the handler does.
            var obj = BodyDecoder.DecodeObject(bytes, Responses.Json, def, "Warn", []);
            def.Strategy.Default(obj);
            var errs = MetadataValidation.ValidateUpdate(def, obj, current);
            errs.AddRange(def.Strategy.Validate(obj, current));
        });
    }

    [Fact]
    public void Patches_apply_or_are_refused_with_a_client_error() =>
        Patches.Sample(PatchPath, iter: Iter, threads: 1);

    // ---- the documented attacks, each as a fixed case --------------------------------------

    [Fact]
    public void Yaml_alias_bomb_is_refused()
    {
        var e = Assert.Throws<ApiException>(() =>
            BodyDecoder.DecodeObject(Encoding.UTF8.GetBytes(BodyMutator.AliasBomb()), Responses.Yaml,
                BuiltinResources.All.First(d => d.Kind == "ConfigMap"), "Strict", []));
        Assert.Equal(400, e.Code);
    }

    [Theory]
    [InlineData(Responses.Json)]
    [InlineData(Responses.Yaml)]
    public void Deep_nesting_is_refused(string mediaType)
    {
        // JSON text is also YAML (flow style): the YAML path must bound depth as the JSON one does.
        var body = BodyMutator.DeepJson(100_000);
        var e = Assert.Throws<ApiException>(() =>
            BodyDecoder.DecodeObject(Encoding.UTF8.GetBytes(body), mediaType, BuiltinResources.All.First(d => d.Kind == "ConfigMap"), "Strict", []));
        Assert.Equal(400, e.Code);
    }
}
