using System.Text;

namespace Portcullis.Analysis.Tests;

/// <summary>An access model built from YAML manifests, as `-f` reads them.</summary>
internal static class YamlModel
{
    public static AccessModel Build(string yaml, bool bootstrap = false) =>
        AccessModel.Build(ManifestReader.Parse(Encoding.UTF8.GetBytes(yaml), "test.yaml", json: false), bootstrap);
}
