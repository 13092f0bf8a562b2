using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.OpenApi;

public static partial class OpenApiV2Protobuf
{
    /// <summary>The gnostic message types (field numbers from OpenAPIv2.proto).</summary>
    private static class T
    {
        private static readonly string[] PrimitiveTypes = ["string", "number", "integer", "boolean", "array"];
        private static readonly string[] CollectionFormats = ["csv", "ssv", "tsv", "pipes"];
        private static readonly string[] CollectionFormatsMulti = ["csv", "ssv", "tsv", "pipes", "multi"];
        private static readonly string[] Schemes = ["http", "https", "ws", "wss"];
        private static readonly string[] PrimitiveKeys =
        [
            "collectionFormat", "default", "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "items", "maxItems",
            "maxLength", "maximum", "minItems", "minLength", "minimum", "multipleOf", "pattern", "type", "uniqueItems",
        ];

        public static readonly MsgType Document = new();
        public static readonly MsgType Info = new();
        public static readonly MsgType Contact = new();
        public static readonly MsgType License = new();
        public static readonly MsgType ExternalDocs = new();
        public static readonly MsgType Paths = new();
        public static readonly MsgType PathItem = new();
        public static readonly MsgType Operation = new();
        public static readonly MsgType Responses = new();
        public static readonly MsgType Response = new();
        public static readonly MsgType Header = new();
        public static readonly MsgType PrimitivesItems = new();
        public static readonly MsgType BodyParameter = new();
        public static readonly MsgType HeaderParameterSubSchema = new();
        public static readonly MsgType FormDataParameterSubSchema = new();
        public static readonly MsgType QueryParameterSubSchema = new();
        public static readonly MsgType PathParameterSubSchema = new();
        public static readonly MsgType JsonReference = new();
        public static readonly MsgType Schema = new();
        public static readonly MsgType FileSchema = new();
        public static readonly MsgType Xml = new();
        public static readonly MsgType Tag = new();
        public static readonly MsgType BasicAuthenticationSecurity = new();
        public static readonly MsgType ApiKeySecurity = new();
        public static readonly MsgType Oauth2ImplicitSecurity = new();
        public static readonly MsgType Oauth2PasswordSecurity = new();
        public static readonly MsgType Oauth2ApplicationSecurity = new();
        public static readonly MsgType Oauth2AccessCodeSecurity = new();

        public static readonly MsgType NonBodyParameter = OneOf(
            (1, () => HeaderParameterSubSchema), (2, () => FormDataParameterSubSchema),
            (3, () => QueryParameterSubSchema), (4, () => PathParameterSubSchema));
        public static readonly MsgType Parameter = OneOf((1, () => BodyParameter), (2, () => NonBodyParameter));
        public static readonly MsgType ParametersItem = OneOf((1, () => Parameter), (2, () => JsonReference));
        public static readonly MsgType ResponseValue = OneOf((1, () => Response), (2, () => JsonReference));
        public static readonly MsgType SchemaItem = OneOf((1, () => Schema), (2, () => FileSchema));
        public static readonly MsgType SecurityDefinitionsItem = OneOf(
            (1, () => BasicAuthenticationSecurity), (2, () => ApiKeySecurity), (3, () => Oauth2ImplicitSecurity),
            (4, () => Oauth2PasswordSecurity), (5, () => Oauth2ApplicationSecurity), (6, () => Oauth2AccessCodeSecurity));

        /// <summary>AdditionalPropertiesItem: a JSON boolean is the boolean arm (written even when false), anything compiling as a Schema the schema arm.</summary>
        public static readonly MsgType AdditionalPropertiesItem = new()
        {
            CustomEncode = (w, n) =>
            {
                if (TryBool(n, out var b)) w.WriteBool(2, b);
                else if (Schema.Valid(n)) w.WriteMessage(1, n, Schema.Writer);
            },
            CustomValid = n => TryBool(n, out _) || Schema.Valid(n),
        };

        /// <summary>TypeItem: a scalar or a sequence of scalars, as their node text.</summary>
        public static readonly MsgType TypeItem = new()
        {
            CustomEncode = (w, n) =>
            {
                if (n is JsonArray a)
                {
                    foreach (var i in a) if (i is not JsonObject and not JsonArray) w.WriteStringAlways(1, ScalarText(i));
                }
                else if (n is not JsonObject) w.WriteStringAlways(1, ScalarText(n));
            },
            CustomValid = n => n is JsonArray a ? a.All(i => i is not JsonObject and not JsonArray) : n is not JsonObject,
        };

        /// <summary>StringArray: every child node's string value ("" when it has none).</summary>
        public static readonly MsgType StringArray = new()
        {
            CustomEncode = (w, n) =>
            {
                IEnumerable<JsonNode?> items = n switch
                {
                    JsonArray a => a,
                    JsonObject o => o.SelectMany(p => new[] { (JsonNode?)JsonValue.Create(p.Key), p.Value }),
                    _ => [],
                };
                foreach (var i in items)
                {
                    TryStr(i, out var s);
                    w.WriteStringAlways(1, s);
                }
            },
            CustomValid = _ => true,
        };

        public static readonly MsgType Definitions = MapOf(() => Schema);
        public static readonly MsgType Properties = MapOf(() => Schema);
        public static readonly MsgType Headers = MapOf(() => Header);
        public static readonly MsgType Examples = MapOf(null);
        public static readonly MsgType ParameterDefinitions = MapOf(() => Parameter);
        public static readonly MsgType ResponseDefinitions = MapOf(() => Response);
        public static readonly MsgType SecurityDefinitions = MapOf(() => SecurityDefinitionsItem);
        public static readonly MsgType SecurityRequirement = MapOf(() => StringArray);
        public static readonly MsgType Oauth2Scopes = MapOf(null, stringValue: true);

        private static Field[] Primitive(int first, bool allowFile, bool multi, Func<MsgType> items) =>
        [
            new Str("type", first, allowFile ? [.. PrimitiveTypes, "file"] : PrimitiveTypes),
            new Str("format", first + 1),
            new Msg("items", first + 2, items),
            new Str("collectionFormat", first + 3, multi ? CollectionFormatsMulti : CollectionFormats),
            new AnyF("default", first + 4),
            new Dbl("maximum", first + 5),
            new Bool("exclusiveMaximum", first + 6),
            new Dbl("minimum", first + 7),
            new Bool("exclusiveMinimum", first + 8),
            new Int("maxLength", first + 9),
            new Int("minLength", first + 10),
            new Str("pattern", first + 11),
            new Int("maxItems", first + 12),
            new Int("minItems", first + 13),
            new Bool("uniqueItems", first + 14),
            new Anys("enum", first + 15),
            new Dbl("multipleOf", first + 16),
        ];

        private static void ParamSubSchema(MsgType t, string @in, bool allowEmptyValue, bool allowFile, bool multi, params string[] required)
        {
            var head = new List<Field> { new Bool("required", 1), new Str("in", 2, @in), new Str("description", 3), new Str("name", 4) };
            var next = 5;
            if (allowEmptyValue) head.Add(new Bool("allowEmptyValue", next++));
            head.AddRange(Primitive(next, allowFile, multi, () => PrimitivesItems));
            head.Add(new Ext(next + 17));
            t.Fields = [.. head];
            t.KeyOk = Keys([.. PrimitiveKeys, "description", "in", "name", "required", .. (allowEmptyValue ? new[] { "allowEmptyValue" } : [])]);
            t.Required = required;
        }

        static T()
        {
            Document.Fields =
            [
                new Str("swagger", 1, "2.0"), new Msg("info", 2, () => Info), new Str("host", 3), new Str("basePath", 4),
                new Strs("schemes", 5, Schemes), new Strs("consumes", 6), new Strs("produces", 7),
                new Msg("paths", 8, () => Paths), new Msg("definitions", 9, () => Definitions),
                new Msg("parameters", 10, () => ParameterDefinitions), new Msg("responses", 11, () => ResponseDefinitions),
                new Msgs("security", 12, () => SecurityRequirement), new Msg("securityDefinitions", 13, () => SecurityDefinitions),
                new Msgs("tags", 14, () => Tag), new Msg("externalDocs", 15, () => ExternalDocs), new Ext(16),
            ];
            Document.KeyOk = Keys("basePath", "consumes", "definitions", "externalDocs", "host", "info", "parameters", "paths",
                "produces", "responses", "schemes", "security", "securityDefinitions", "swagger", "tags");
            Document.Required = ["info", "paths", "swagger"];

            Info.Fields =
            [
                new Str("title", 1), new Str("version", 2), new Str("description", 3), new Str("termsOfService", 4),
                new Msg("contact", 5, () => Contact), new Msg("license", 6, () => License), new Ext(7),
            ];
            Info.KeyOk = Keys("contact", "description", "license", "termsOfService", "title", "version");
            Info.Required = ["title", "version"];

            Contact.Fields = [new Str("name", 1), new Str("url", 2), new Str("email", 3), new Ext(4)];
            Contact.KeyOk = Keys("email", "name", "url");
            License.Fields = [new Str("name", 1), new Str("url", 2), new Ext(3)];
            License.KeyOk = Keys("name", "url");
            License.Required = ["name"];
            ExternalDocs.Fields = [new Str("description", 1), new Str("url", 2), new Ext(3)];
            ExternalDocs.KeyOk = Keys("description", "url");
            ExternalDocs.Required = ["url"];

            Paths.Fields = [new Ext(1), new Named(2, k => k.StartsWith('/'), () => PathItem)];
            Paths.KeyOk = k => IsExtension(k) || k.StartsWith('/');

            PathItem.Fields =
            [
                new Str("$ref", 1), new Msg("get", 2, () => Operation), new Msg("put", 3, () => Operation),
                new Msg("post", 4, () => Operation), new Msg("delete", 5, () => Operation), new Msg("options", 6, () => Operation),
                new Msg("head", 7, () => Operation), new Msg("patch", 8, () => Operation),
                new Msgs("parameters", 9, () => ParametersItem), new Ext(10),
            ];
            PathItem.KeyOk = Keys("$ref", "delete", "get", "head", "options", "parameters", "patch", "post", "put");

            Operation.Fields =
            [
                new Strs("tags", 1), new Str("summary", 2), new Str("description", 3), new Msg("externalDocs", 4, () => ExternalDocs),
                new Str("operationId", 5), new Strs("produces", 6), new Strs("consumes", 7),
                new Msgs("parameters", 8, () => ParametersItem), new Msg("responses", 9, () => Responses),
                new Strs("schemes", 10, Schemes), new Bool("deprecated", 11), new Msgs("security", 12, () => SecurityRequirement),
                new Ext(13),
            ];
            Operation.KeyOk = Keys("consumes", "deprecated", "description", "externalDocs", "operationId", "parameters",
                "produces", "responses", "schemes", "security", "summary", "tags");
            Operation.Required = ["responses"];

            Responses.Fields = [new Named(1, ResponseCode.IsMatch, () => ResponseValue), new Ext(2)];
            Responses.KeyOk = k => ResponseCode.IsMatch(k) || IsExtension(k);

            Response.Fields =
            [
                new Str("description", 1), new Msg("schema", 2, () => SchemaItem), new Msg("headers", 3, () => Headers),
                new Msg("examples", 4, () => Examples), new Ext(5),
            ];
            Response.KeyOk = Keys("description", "examples", "headers", "schema");
            Response.Required = ["description"];

            Header.Fields = [.. Primitive(1, false, false, () => PrimitivesItems), new Str("description", 18), new Ext(19)];
            Header.KeyOk = Keys([.. PrimitiveKeys, "description"]);
            Header.Required = ["type"];
            PrimitivesItems.Fields = [.. Primitive(1, false, false, () => PrimitivesItems), new Ext(18)];
            PrimitivesItems.KeyOk = Keys(PrimitiveKeys);

            BodyParameter.Fields =
            [
                new Str("description", 1), new Str("name", 2), new Str("in", 3, "body"), new Bool("required", 4),
                new Msg("schema", 5, () => Schema), new Ext(6),
            ];
            BodyParameter.KeyOk = Keys("description", "in", "name", "required", "schema");
            BodyParameter.Required = ["in", "name", "schema"];
            ParamSubSchema(HeaderParameterSubSchema, "header", allowEmptyValue: false, allowFile: false, multi: false);
            ParamSubSchema(FormDataParameterSubSchema, "formData", allowEmptyValue: true, allowFile: true, multi: true);
            ParamSubSchema(QueryParameterSubSchema, "query", allowEmptyValue: true, allowFile: false, multi: true);
            ParamSubSchema(PathParameterSubSchema, "path", allowEmptyValue: false, allowFile: false, multi: false, "required");

            JsonReference.Fields = [new Str("$ref", 1), new Str("description", 2)];
            JsonReference.Required = ["$ref"];

            Schema.Fields =
            [
                new Str("$ref", 1), new Str("format", 2), new Str("title", 3), new Str("description", 4), new AnyF("default", 5),
                new Dbl("multipleOf", 6), new Dbl("maximum", 7), new Bool("exclusiveMaximum", 8), new Dbl("minimum", 9),
                new Bool("exclusiveMinimum", 10), new Int("maxLength", 11), new Int("minLength", 12), new Str("pattern", 13),
                new Int("maxItems", 14), new Int("minItems", 15), new Bool("uniqueItems", 16), new Int("maxProperties", 17),
                new Int("minProperties", 18), new Strs("required", 19), new Anys("enum", 20),
                new Msg("additionalProperties", 21, () => AdditionalPropertiesItem), new Msg("type", 22, () => TypeItem),
                new Items("items", 23), new Msgs("allOf", 24, () => Schema), new Msg("properties", 25, () => Properties),
                new Str("discriminator", 26), new Bool("readOnly", 27), new Msg("xml", 28, () => Xml),
                new Msg("externalDocs", 29, () => ExternalDocs), new AnyF("example", 30), new Ext(31),
            ];
            Schema.KeyOk = Keys("$ref", "additionalProperties", "allOf", "default", "description", "discriminator", "enum",
                "example", "exclusiveMaximum", "exclusiveMinimum", "externalDocs", "format", "items", "maxItems", "maxLength",
                "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf", "pattern",
                "properties", "readOnly", "required", "title", "type", "uniqueItems", "xml");

            FileSchema.Fields =
            [
                new Str("format", 1), new Str("title", 2), new Str("description", 3), new AnyF("default", 4),
                new Strs("required", 5), new Str("type", 6, "file"), new Bool("readOnly", 7),
                new Msg("externalDocs", 8, () => ExternalDocs), new AnyF("example", 9), new Ext(10),
            ];
            FileSchema.KeyOk = Keys("default", "description", "example", "externalDocs", "format", "readOnly", "required", "title", "type");
            FileSchema.Required = ["type"];

            Xml.Fields =
            [
                new Str("name", 1), new Str("namespace", 2), new Str("prefix", 3), new Bool("attribute", 4),
                new Bool("wrapped", 5), new Ext(6),
            ];
            Xml.KeyOk = Keys("attribute", "name", "namespace", "prefix", "wrapped");

            Tag.Fields = [new Str("name", 1), new Str("description", 2), new Msg("externalDocs", 3, () => ExternalDocs), new Ext(4)];
            Tag.KeyOk = Keys("description", "externalDocs", "name");
            Tag.Required = ["name"];

            BasicAuthenticationSecurity.Fields = [new Str("type", 1, "basic"), new Str("description", 2), new Ext(3)];
            BasicAuthenticationSecurity.KeyOk = Keys("description", "type");
            BasicAuthenticationSecurity.Required = ["type"];
            ApiKeySecurity.Fields =
            [
                new Str("type", 1, "apiKey"), new Str("name", 2), new Str("in", 3, "header", "query"), new Str("description", 4), new Ext(5),
            ];
            ApiKeySecurity.KeyOk = Keys("description", "in", "name", "type");
            ApiKeySecurity.Required = ["in", "name", "type"];
            Oauth2ImplicitSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "implicit"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("authorizationUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2ImplicitSecurity.KeyOk = Keys("authorizationUrl", "description", "flow", "scopes", "type");
            Oauth2ImplicitSecurity.Required = ["authorizationUrl", "flow", "type"];
            Oauth2PasswordSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "password"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("tokenUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2PasswordSecurity.KeyOk = Keys("description", "flow", "scopes", "tokenUrl", "type");
            Oauth2PasswordSecurity.Required = ["flow", "tokenUrl", "type"];
            Oauth2ApplicationSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "application"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("tokenUrl", 4), new Str("description", 5), new Ext(6),
            ];
            Oauth2ApplicationSecurity.KeyOk = Keys("description", "flow", "scopes", "tokenUrl", "type");
            Oauth2ApplicationSecurity.Required = ["flow", "tokenUrl", "type"];
            Oauth2AccessCodeSecurity.Fields =
            [
                new Str("type", 1, "oauth2"), new Str("flow", 2, "accessCode"), new Msg("scopes", 3, () => Oauth2Scopes),
                new Str("authorizationUrl", 4), new Str("tokenUrl", 5), new Str("description", 6), new Ext(7),
            ];
            Oauth2AccessCodeSecurity.KeyOk = Keys("authorizationUrl", "description", "flow", "scopes", "tokenUrl", "type");
            Oauth2AccessCodeSecurity.Required = ["authorizationUrl", "flow", "tokenUrl", "type"];
        }
    }
}
