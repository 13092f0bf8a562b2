using System.Text.Json.Nodes;
using CsCheck;
using Portcullis.Fuzzing;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Schema;

/// <summary>
/// <see cref="ObjectShaper.Reshape"/> must give what <see cref="ObjectShaper.Shape"/> gives, byte
/// for byte, for any object: checked over kubectl's bodies of sixteen kinds, mutated (values
/// replaced by edge cases, fields dropped, duplicated, wrapped, nested), and over their shaped forms
/// changed as defaulting and admission change them.
/// </summary>
public sealed class ReshapeTests
{
    private static readonly long Iter = long.TryParse(Environment.GetEnvironmentVariable("PORTCULLIS_FUZZ_ITER"), out var n) ? n : 2000;

    private sealed record Seed(ResourceDefinition Def, byte[] Body);

    private static readonly Seed[] Corpus = LoadCorpus();

    private static Seed[] LoadCorpus()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "TestData");
        var seeds = new List<Seed>();
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "protobuf"), "*.json").Concat(Directory.GetFiles(Path.Combine(dir, "fuzz"), "*.json")).Order(StringComparer.Ordinal))
        {
            var def = BuiltinResources.All.FirstOrDefault(d => d.Kind == Path.GetFileName(f).Split('.')[0]);
            if (def is not null) seeds.Add(new(def, File.ReadAllBytes(f)));
        }
        return seeds.ToArray();
    }

    private static JsonObject? Parse(byte[] body)
    {
        try { return JsonParser.Parse(body) as JsonObject; }
        catch (Exception) { return null; }
    }

    private static string ShapeBytes(Func<JsonObject> shape)
    {
        try { return System.Text.Encoding.UTF8.GetString(GoJsonWriter.ToBytes(shape())); }
        catch (Exception e) { return "threw " + e.GetType().Name; }
    }

    [Fact]
    public void Corpus_has_the_kinds_kubectl_sends()
    {
        Assert.True(Corpus.Length >= 16);
        Assert.Contains(Corpus, s => s.Def.Kind == "Pod");
        Assert.All(Corpus, s => Assert.NotNull(Parse(s.Body)));
    }

    [Fact]
    public void An_object_in_shape_is_returned_as_it_is()
    {
        foreach (var s in Corpus)
        {
            var shaped = ObjectShaper.Shape(Parse(s.Body)!, s.Def.Schema);
            var before = GoJsonWriter.ToBytes(shaped);
            Assert.Same(shaped, ObjectShaper.Reshape(shaped, s.Def.Schema));
            Assert.Equal(before, GoJsonWriter.ToBytes(shaped));
        }
    }

    [Fact]
    public void A_shaped_object_changed_in_one_place_keeps_the_parts_in_shape()
    {
        var pod = Corpus.First(s => s.Def.Kind == "Pod");
        var shaped = ObjectShaper.Shape(Parse(pod.Body)!, pod.Def.Schema);
        var spec = (JsonObject)shaped["spec"]!;
        var containers = (JsonArray)spec["containers"]!;
        var first = containers[0]!;
        // Out of order and of another CLR form, as code writes it.
        ((JsonObject)shaped["metadata"]!)["uid"] = "u";
        spec["priority"] = JsonValue.Create(5);
        var expected = GoJsonWriter.ToBytes(ObjectShaper.Shape((JsonObject)shaped.DeepClone(), pod.Def.Schema));
        var reshaped = ObjectShaper.Reshape(shaped, pod.Def.Schema);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(GoJsonWriter.ToBytes(reshaped)));
        Assert.Same(shaped, reshaped);
        Assert.Same(first, ((JsonArray)reshaped["spec"]!["containers"]!)[0]);
    }

    [Fact]
    public void Reshape_equals_Shape_on_mutated_bodies()
    {
        var cases = Gen.Select(Gen.Int[0, Corpus.Length - 1], Gen.Int, Gen.Int[0, 6], (i, seed, steps) =>
            (Corpus[i].Def, Body: steps == 0 ? Corpus[i].Body : BodyMutator.Mutate(Corpus[i].Body, new Random(seed), steps, json: true)));
        cases.Where(c => Parse(c.Body) is not null).Sample(c =>
        {
            var expected = ShapeBytes(() => ObjectShaper.Shape(Parse(c.Body)!, c.Def.Schema));
            var actual = ShapeBytes(() => ObjectShaper.Reshape(Parse(c.Body)!, c.Def.Schema));
            return expected == actual;
        }, iter: Iter, threads: 1);
    }

    [Fact]
    public void Reshape_equals_Shape_on_shaped_objects_changed_by_a_mutation()
    {
        // A shaped object with one part replaced by a mutated body's part: in shape except there.
        var cases = Gen.Select(Gen.Int[0, Corpus.Length - 1], Gen.Int, Gen.Int[1, 4], (i, seed, steps) =>
            (Corpus[i].Def, Corpus[i].Body, Mutated: BodyMutator.Mutate(Corpus[i].Body, new Random(seed), steps, json: true)));
        cases.Where(c => Parse(c.Mutated) is not null).Sample(c =>
        {
            var shaped = ObjectShaper.Shape(Parse(c.Body)!, c.Def.Schema);
            var mutated = Parse(c.Mutated)!;
            foreach (var key in new[] { "metadata", "spec", "status", "data", "rules", "subjects" })
            {
                if (!mutated.TryGetPropertyValue(key, out var part)) continue;
                shaped[key] = part?.DeepClone();
            }
            var expected = ShapeBytes(() => ObjectShaper.Shape((JsonObject)shaped.DeepClone(), c.Def.Schema));
            var actual = ShapeBytes(() => ObjectShaper.Reshape(shaped, c.Def.Schema));
            return expected == actual;
        }, iter: Iter, threads: 1);
    }
}
