using System.Text.Json.Serialization;

namespace Portcullis.Server.Serialization;

/// <summary>Source-generated serializer metadata for the few plain types serialized directly.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class SerializationContext : JsonSerializerContext;
