using Portcullis.Server.Errors;

namespace Portcullis.Server.Http;

/// <summary>What a response is encoded as.</summary>
public enum WireEncoding { Json, Yaml }

/// <summary>What a response carries: the object itself, or a conversion the client asked for.</summary>
public enum Conversion { None, Table, PartialObjectMetadata, PartialObjectMetadataList, AggregatedDiscoveryV2, AggregatedDiscoveryV2Beta1 }

public readonly record struct Negotiated(WireEncoding Encoding, Conversion Conversion)
{
    public string ContentType => Conversion switch
    {
        Conversion.Table => "application/json;as=Table;v=v1;g=meta.k8s.io",
        Conversion.PartialObjectMetadata => "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
        Conversion.PartialObjectMetadataList => "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        Conversion.AggregatedDiscoveryV2 => "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        Conversion.AggregatedDiscoveryV2Beta1 => "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        _ => Encoding == WireEncoding.Yaml ? Responses.Yaml : Responses.Json,
    };
}

/// <summary>
/// Accept-header negotiation as upstream: the first offer the server can produce wins; offers
/// with <c>as=…;g=…;v=…</c> parameters ask for a conversion (Table, PartialObjectMetadata,
/// aggregated discovery) and are only honoured where that conversion applies.
/// </summary>
public static class MediaTypes
{
    public static Negotiated Negotiate(string accept, params Conversion[] allowed)
    {
        if (string.IsNullOrWhiteSpace(accept)) return new(WireEncoding.Json, Conversion.None);
        foreach (var raw in accept.Split(','))
        {
            var parts = raw.Split(';');
            var type = parts[0].Trim().ToLowerInvariant();
            string? asKind = null, g = null, v = null;
            foreach (var p in parts.Skip(1))
            {
                var kv = p.Split('=', 2);
                if (kv.Length != 2) continue;
                var key = kv[0].Trim();
                var val = kv[1].Trim().Trim('"');
                if (key == "as") asKind = val;
                else if (key == "g") g = val;
                else if (key == "v") v = val;
            }
            var enc = type switch
            {
                "application/json" or "application/*" or "*/*" => WireEncoding.Json,
                "application/yaml" when asKind is null => WireEncoding.Yaml,
                _ => (WireEncoding?)null,
            };
            if (enc is null) continue;
            if (asKind is null) return new(enc.Value, Conversion.None);
            var conv = (asKind, g, v) switch
            {
                ("Table", "meta.k8s.io", "v1" or "v1beta1") => Conversion.Table,
                ("PartialObjectMetadata", "meta.k8s.io", "v1" or "v1beta1") => Conversion.PartialObjectMetadata,
                ("PartialObjectMetadataList", "meta.k8s.io", "v1" or "v1beta1") => Conversion.PartialObjectMetadataList,
                ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2") => Conversion.AggregatedDiscoveryV2,
                ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2beta1") => Conversion.AggregatedDiscoveryV2Beta1,
                _ => Conversion.None,
            };
            if (conv != Conversion.None && allowed.Contains(conv)) return new(enc.Value, conv);
        }
        throw ApiErrors.NotAcceptable("only the following media types are accepted: application/json, application/yaml");
    }
}
