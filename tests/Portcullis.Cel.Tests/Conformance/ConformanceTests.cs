using Xunit.Abstractions;

namespace Portcullis.Cel.Tests.Conformance;

/// <summary>
/// The cel-spec conformance suite (google/cel-spec v0.19.1, tests/simple/testdata): one case per SimpleTest.
/// A case on the skip list (TestData/conformance-skips.txt) must still fail, so the list stays honest:
/// when the engine learns to pass it, the case fails until its line is removed.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> CaseIds() => ConformanceSuite.Cases.Select(c => new object[] { c.Id });

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Case(string id)
    {
        var c = ConformanceSuite.Cases.Single(x => x.Id == id);
        var outcome = ConformanceSuite.Run(c);
        string? skip = ConformanceSuite.Skips.ReasonFor(c);
        output.WriteLine($"expr: {c.Test.Text("expr")}");
        output.WriteLine(outcome.Detail);
        if (skip is not null)
            Assert.False(outcome.Passed, $"{id} passes now: remove it from the skip list ({skip})");
        else
            Assert.True(outcome.Passed, $"{id}: {outcome.Detail}");
    }

    [Fact]
    public void Summary()
    {
        int total = 0, passed = 0;
        var report = new System.Text.StringBuilder();
        foreach (var group in ConformanceSuite.Cases.GroupBy(c => c.File))
        {
            int n = group.Count(), p = 0;
            foreach (var c in group)
            {
                var o = ConformanceSuite.Run(c);
                if (o.Passed) p++;
                else report.AppendLine($"{c.Id}\t{c.Test.Text("expr")?.ReplaceLineEndings(" ")}\t{o.Detail.ReplaceLineEndings(" ")}");
            }
            total += n;
            passed += p;
            output.WriteLine($"{group.Key,-16} {p,4} / {n,4}  ({100.0 * p / n:F1}%)");
        }
        output.WriteLine($"{"overall",-16} {passed,4} / {total,4}  ({100.0 * passed / total:F1}%)");
        // every failing case with its reason, beside the test binaries (for working on the engine)
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "conformance-failures.tsv"), report.ToString());
        int skipped = ConformanceSuite.Cases.Count(c => ConformanceSuite.Skips.ReasonFor(c) is not null);
        Assert.Equal(total - skipped, passed);
    }
}
