using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;
using K = Portcullis.Server.Api.CustomResources.Schema.JsonValues.Kind;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// One error of kube-openapi's validate package (pkg/validation/errors): a *Validation with its code,
/// name, value and message, or (Code 0) a plain error such as "must validate one and only one schema".
/// </summary>
internal sealed record OpenApiError(OpenApiCode Code, string Name, string Message, GoValue Value, long Valid = -1, List<JsonNode?>? Values = null);

internal enum OpenApiCode { Composite, InvalidType, Required, TooLong, TooShort, Pattern, Enum, MultipleOf, Max, Min, Unique, MaxItems, MinItems, TooFewProperties, TooManyProperties, UnallowedProperty, MultipleOfMustBePositive }

/// <summary>A Go value as a field error will print it (see <see cref="JsonValues.BadValue"/>); Nil when the error carries none.</summary>
internal readonly record struct GoValue(string? Text, bool IsString, bool Nil)
{
    public static readonly GoValue None = new(null, false, true);
    public static GoValue Of(JsonNode? n) { var (t, s) = JsonValues.BadValue(n); return new(t, s, false); }
    public static GoValue String(string s) => new(s, true, false);
    public static GoValue Int(long l) => new(l.ToString(CultureInfo.InvariantCulture), false, false);
    public static GoValue Float(double d) => new(GoText.Float(d), false, false);
}

/// <summary>kube-openapi's validate.Result: errors kept once per message, and the match count anyOf/oneOf use.</summary>
internal sealed class OpenApiResult
{
    public readonly List<OpenApiError> Errors = new();
    public int MatchCount;
    public bool IsValid => Errors.Count == 0;

    public void Add(OpenApiError e)
    {
        foreach (var r in Errors) if (r.Message == e.Message) return;
        Errors.Add(e);
    }

    public OpenApiResult Merge(OpenApiResult? other)
    {
        if (other is null) return this;
        foreach (var e in other.Errors) Add(e);
        MatchCount += other.MatchCount;
        return this;
    }

    public static OpenApiResult Err(OpenApiError e) { var r = new OpenApiResult(); r.Errors.Add(e); return r; }
}

/// <summary>
/// kube-openapi's SchemaValidator (pkg/validation/validate at c8a335a9a2ff) over a CRD schema converted as
/// apiextensions' ConvertJSONSchemaPropsWithPostProcess does it (x-kubernetes-int-or-string gives type
/// [integer,string], formats outside apiextensions' list are dropped). Messages are the package's texts
/// with "in body".
/// </summary>
internal static class OpenApiValidator
{
    private const string In = "body";

    /// <summary>
    /// Validation with CRD validation ratcheting (RatchetingSchemaValidator, on by default in 1.33): a node whose
    /// value is unchanged from its correlated old value has its errors dropped. Correlation follows the structural
    /// schema: object fields present in both, list-type=map items by key; never atomic or set items, nor the root's
    /// apiVersion and kind.
    /// </summary>
    public static OpenApiResult ValidateRatcheting(JsonSchemaProps s, JsonNode? data, string path, Correlation? corr)
    {
        var r = Validate(s, data, path, corr);
        if (!r.IsValid && corr is not null && JsonValues.DeepEqual(data, corr.Old))
            return new OpenApiResult { MatchCount = r.MatchCount };
        return r;
    }

    public static OpenApiResult Validate(JsonSchemaProps s, JsonNode? data, string path, Correlation? corr = null)
    {
        var result = new OpenApiResult();
        var types = Types(s);
        var format = Formats.Supported(s.Format) ? s.Format : "";
        if (data is null)
        {
            if (types.Count > 0 || format.Length > 0) result.Merge(TypeValidate(s, types, format, data, path));
            result.Merge(EnumValidate(s, data, path));
            return result;
        }
        var kind = JsonValues.KindOf(data);
        void Run(OpenApiResult? r) { result.Merge(r); result.MatchCount++; }
        if (types.Count > 0 || format.Length > 0) Run(TypeValidate(s, types, format, data, path));
        Run(SchemaPropsValidate(s, data, path, corr));
        if (kind == K.String) Run(StringValidate(s, JsonValues.Str(data), path));
        if (kind == K.String && format.Length > 0) Run(FormatValidate(format, JsonValues.Str(data), path));
        if (kind is K.Int or K.Float) Run(NumberValidate(s, (JsonValue)data, kind, path));
        if (kind == K.Array) Run(SliceValidate(s, (JsonArray)data, path, corr));
        Run(EnumValidate(s, data, path));
        if (kind == K.Object) Run(ObjectValidate(s, (JsonObject)data, path, corr));
        result.MatchCount++;
        return result;
    }

    private static List<string> Types(JsonSchemaProps s)
    {
        if (s.XIntOrString) return ["integer", "string"];
        return s.Type.Length > 0 ? [s.Type] : [];
    }

    private static OpenApiError InvalidType(string path, string typeName, GoValue value, bool valueIsString)
    {
        var msg = valueIsString ? $"{path} in {In} must be of type {typeName}: {GoText.Quote(value.Text ?? "")}" : $"{path} in {In} must be of type {typeName}";
        return new(OpenApiCode.InvalidType, path, msg, value);
    }

    // ---- type ----------------------------------------------------------------------------------
    private static OpenApiResult TypeValidate(JsonSchemaProps s, List<string> types, string format, JsonNode? data, string path)
    {
        var result = new OpenApiResult { MatchCount = 1 };
        if (data is null)
        {
            if (types.Count > 0 && !types.Contains("null") && !s.Nullable)
                return OpenApiResult.Err(InvalidType(path, string.Join(",", types), GoValue.String("null"), true));
            return result;
        }
        var kind = JsonValues.KindOf(data);
        var schType = JsonValues.SchemaType(kind);
        var dataFormat = kind switch { K.Int => "int64", K.Float => "float64", _ => "" };
        var isFloatInt = kind == K.Float && IsFloat64AJsonInteger(JsonValues.AsDouble((JsonValue)data)) && types.Contains("integer");
        var isIntFloat = kind == K.Int && types.Contains("number");
        var stringOrSlice = kind is K.String or K.Array;
        if (!stringOrSlice && format.Length > 0 && !(types.Contains(schType) || dataFormat == format || isFloatInt || isIntFloat))
            return OpenApiResult.Err(InvalidType(path, format, GoValue.String(dataFormat), true));
        if (!(types.Contains("number") || types.Contains("integer")) && format.Length > 0 && stringOrSlice)
            return result;
        if (!(types.Contains(schType) || isFloatInt || isIntFloat))
            return OpenApiResult.Err(InvalidType(path, string.Join(",", types), GoValue.String(schType), true));
        return result;
    }

    /// <summary>swag.IsFloat64AJSONInteger.</summary>
    internal static bool IsFloat64AJsonInteger(double f)
    {
        const double maxJson = 9007199254740991; // 1<<53 - 1
        if (double.IsNaN(f) || double.IsInfinity(f) || f < -maxJson || f > maxJson) return false;
        if (f == Math.Truncate(f)) return true;
        var g = Math.Truncate(f);
        var diff = Math.Abs(f - g);
        if (g == 0) return diff < 1e-9 * double.Epsilon;
        return diff / Math.Min(Math.Abs(f) + Math.Abs(g), double.MaxValue) < 1e-9;
    }

    // ---- allOf / anyOf / oneOf / not -----------------------------------------------------------
    private static OpenApiResult SchemaPropsValidate(JsonSchemaProps s, JsonNode data, string path, Correlation? corr)
    {
        var main = new OpenApiResult();
        if (s.AnyOf is { Count: > 0 })
        {
            OpenApiResult? best = null, firstSuccess = null;
            var succeeded = false;
            foreach (var sub in s.AnyOf)
            {
                var r = Validate(sub, data, path, corr);
                if (r.IsValid) { best = null; succeeded = true; firstSuccess ??= r; break; }
                if (best is null || r.MatchCount > best.MatchCount) best = r;
            }
            if (!succeeded) main.Add(new(OpenApiCode.Composite, path, $"{GoText.Quote(path)} must validate at least one schema (anyOf)", GoValue.None));
            if (best is not null) main.Merge(best);
            else if (firstSuccess is not null) main.Merge(firstSuccess);
        }
        if (s.OneOf is { Count: > 0 })
        {
            OpenApiResult? best = null, firstSuccess = null;
            var validated = 0;
            foreach (var sub in s.OneOf)
            {
                var r = Validate(sub, data, path, corr);
                if (r.IsValid) { validated++; best = null; firstSuccess ??= r; continue; }
                if (validated == 0 && (best is null || r.MatchCount > best.MatchCount)) best = r;
            }
            if (validated != 1)
            {
                var extra = validated == 0 ? "Found none valid" : $"Found {validated} valid alternatives";
                main.Add(new(OpenApiCode.Composite, path, $"{GoText.Quote(path)} must validate one and only one schema (oneOf). {extra}", GoValue.None));
                if (best is not null) main.Merge(best);
            }
            else if (firstSuccess is not null) main.Merge(firstSuccess);
        }
        if (s.AllOf is { Count: > 0 })
        {
            var validated = 0;
            foreach (var sub in s.AllOf)
            {
                var r = Validate(sub, data, path, corr);
                if (r.IsValid) validated++;
                main.Merge(r);
            }
            if (validated != s.AllOf.Count)
                main.Add(new(OpenApiCode.Composite, path, $"{GoText.Quote(path)} must validate all the schemas (allOf){(validated == 0 ? ". None validated" : "")}", GoValue.None));
        }
        if (s.Not is not null && Validate(s.Not, data, path, corr).IsValid)
            main.Add(new(OpenApiCode.Composite, path, $"{GoText.Quote(path)} must not validate the schema (not)", GoValue.None));
        main.MatchCount++;
        return main;
    }

    // ---- string --------------------------------------------------------------------------------
    private static OpenApiResult? StringValidate(JsonSchemaProps s, string data, string path)
    {
        var len = data.EnumerateRunes().Count();
        if (s.MaxLength is { } max && len > max)
            return OpenApiResult.Err(new(OpenApiCode.TooLong, path, $"{path} in {In} should be at most {max} chars long", GoValue.String(data), max));
        if (s.MinLength is { } min && len < min)
            return OpenApiResult.Err(new(OpenApiCode.TooShort, path, $"{path} in {In} should be at least {min} chars long", GoValue.String(data), min));
        if (s.Pattern.Length > 0)
        {
            var (re, err) = Patterns.Compile(s.Pattern);
            if (re is null)
                return OpenApiResult.Err(new(OpenApiCode.Pattern, path, $"{path} in {In} should match '{s.Pattern}, but pattern is invalid: {err}'", GoValue.String(data)));
            if (!re.IsMatch(data))
                return OpenApiResult.Err(new(OpenApiCode.Pattern, path, $"{path} in {In} should match '{s.Pattern}'", GoValue.String(data)));
        }
        return null;
    }

    private static OpenApiResult? FormatValidate(string format, string data, string path) =>
        Formats.Validates(format, data) ? null : OpenApiResult.Err(InvalidType(path, format, GoValue.String(data), true));

    // ---- numbers -------------------------------------------------------------------------------
    private static OpenApiResult NumberValidate(JsonSchemaProps s, JsonValue v, K kind, string path)
    {
        var res = new OpenApiResult();
        var isInt = kind == K.Int;
        long l = 0;
        if (isInt) JsonValues.TryInt64(v, out l);
        var d = JsonValues.AsDouble(v);
        var value = isInt ? GoValue.Int(l) : GoValue.Float(d);
        OpenApiError? multiple = null, minimum = null, maximum = null;
        if (s.MultipleOf is { } m)
        {
            if (isInt)
            {
                var factor = (long)m;
                if (factor <= 0) multiple = new(OpenApiCode.MultipleOfMustBePositive, path, $"factor MultipleOf declared for {path} must be positive: {factor}", GoValue.Int(factor));
                else if (l / factor * factor != l) multiple = new(OpenApiCode.MultipleOf, path, $"{path} in {In} should be a multiple of {factor}", value);
            }
            else if (m <= 0) multiple = new(OpenApiCode.MultipleOfMustBePositive, path, $"factor MultipleOf declared for {path} must be positive: {GoText.Float(m)}", GoValue.Float(m));
            else
            {
                var mult = m < 1 ? 1 / m * d : d / m;
                if (!IsFloat64AJsonInteger(mult)) multiple = new(OpenApiCode.MultipleOf, path, $"{path} in {In} should be a multiple of {GoText.Float(m)}", value);
            }
        }
        if (s.Maximum is { } max)
        {
            var exc = s.ExclusiveMaximum;
            if (isInt)
            {
                var mi = (long)max;
                if ((!exc && l > mi) || (exc && l >= mi)) maximum = new(OpenApiCode.Max, path, $"{path} in {In} should be less than{(exc ? "" : " or equal to")} {mi}", value);
            }
            else if ((!exc && d > max) || (exc && d >= max)) maximum = new(OpenApiCode.Max, path, $"{path} in {In} should be less than{(exc ? "" : " or equal to")} {GoText.Float(max)}", value);
        }
        if (s.Minimum is { } min)
        {
            var exc = s.ExclusiveMinimum;
            if (isInt)
            {
                var mi = (long)min;
                if ((!exc && l < mi) || (exc && l <= mi)) minimum = new(OpenApiCode.Min, path, $"{path} in {In} should be greater than{(exc ? "" : " or equal to")} {mi}", value);
            }
            else if ((!exc && d < min) || (exc && d <= min)) minimum = new(OpenApiCode.Min, path, $"{path} in {In} should be greater than{(exc ? "" : " or equal to")} {GoText.Float(min)}", value);
        }
        if (multiple is not null) res.Add(multiple);
        if (minimum is not null) res.Add(minimum);
        if (maximum is not null) res.Add(maximum);
        res.MatchCount++;
        return res;
    }

    // ---- arrays --------------------------------------------------------------------------------
    private static OpenApiResult SliceValidate(JsonSchemaProps s, JsonArray a, string path, Correlation? corr)
    {
        var result = new OpenApiResult();
        if (s.Items is not null)
            for (var i = 0; i < a.Count; i++)
                result.Merge(ValidateRatcheting(s.Items, a[i], $"{path}[{i}]", corr?.Index(a, i)));
        if (s.MinItems is { } min && a.Count < min)
            result.Add(new(OpenApiCode.MinItems, path, $"{path} in {In} should have at least {min} items", GoValue.Int(a.Count), min));
        if (s.MaxItems is { } max && a.Count > max)
            result.Add(new(OpenApiCode.MaxItems, path, $"{path} in {In} should have at most {max} items", GoValue.Int(a.Count), max));
        if (s.UniqueItems)
        {
            var dup = false;
            for (var i = 0; i < a.Count && !dup; i++)
                for (var j = 0; j < i && !dup; j++)
                    dup = JsonValues.DeepEqual(a[i], a[j]);
            if (dup) result.Add(new(OpenApiCode.Unique, path, $"{path} in {In} shouldn't contain duplicates", GoValue.None));
        }
        result.MatchCount++;
        return result;
    }

    // ---- enum ----------------------------------------------------------------------------------
    private static OpenApiResult? EnumValidate(JsonSchemaProps s, JsonNode? data, string path)
    {
        if (s.Enum is not { Count: > 0 } values) return null;
        foreach (var e in values)
            if (EnumMatches(data, e)) return null;
        return OpenApiResult.Err(new(OpenApiCode.Enum, path, $"{path} in {In} should be one of {JsonValues.GoV(new JsonArray(values.Select(v => v?.DeepClone()).ToArray()))}", GoValue.Of(data), Values: values));
    }

    // basicCommonValidator: the value converted to the enum value's Go type (reflect.Value.Convert), then DeepEqual.
    private static bool EnumMatches(JsonNode? data, JsonNode? e)
    {
        var ek = JsonValues.KindOf(e);
        var dk = JsonValues.KindOf(data);
        if (ek == K.Null || dk == K.Null) return false;
        switch (ek)
        {
            case K.String:
                if (dk == K.String) return JsonValues.Str(data!) == JsonValues.Str(e!);
                if (dk == K.Int)
                {
                    // int64 converts to string as a rune.
                    JsonValues.TryInt64((JsonValue)data!, out var r);
                    var text = r is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32((int)r) : "\uFFFD";
                    return text == JsonValues.Str(e!);
                }
                return false;
            case K.Int:
                JsonValues.TryInt64((JsonValue)e!, out var ei);
                if (dk == K.Int) { JsonValues.TryInt64((JsonValue)data!, out var di); return di == ei; }
                if (dk == K.Float) { var df = JsonValues.AsDouble((JsonValue)data!); return !double.IsNaN(df) && (long)Math.Truncate(df) == ei; }
                return false;
            case K.Float:
                var ef = JsonValues.AsDouble((JsonValue)e!);
                if (dk == K.Int) { JsonValues.TryInt64((JsonValue)data!, out var di); return di == ef; }
                if (dk == K.Float) return JsonValues.AsDouble((JsonValue)data!) == ef;
                return false;
            case K.Bool:
                return dk == K.Bool && data!.GetValue<bool>() == e!.GetValue<bool>();
            default:
                return dk == ek && JsonValues.DeepEqual(data, e);
        }
    }

    // ---- objects -------------------------------------------------------------------------------
    private static OpenApiResult ObjectValidate(JsonSchemaProps s, JsonObject o, string path, Correlation? corr)
    {
        var res = new OpenApiResult();
        long n = o.Count;
        if (s.MinProperties is { } min && n < min)
            res.Add(new(OpenApiCode.TooFewProperties, path, $"{path} in {In} should have at least {min} properties", GoValue.Int(n), min));
        if (s.MaxProperties is { } max && n > max)
            res.Add(new(OpenApiCode.TooManyProperties, path, $"{path} in {In} should have at most {max} properties", GoValue.Int(n), max));
        if (s.HasAdditionalProperties && !s.AdditionalPropertiesAllows)
        {
            foreach (var (k, _) in o)
                if (s.Property(k) is null)
                    res.Add(new(OpenApiCode.UnallowedProperty, path, $"{path}.{k} in {In} is a forbidden property", GoValue.String(k)));
        }
        else if (s.AdditionalPropertiesSchema is { } ap)
        {
            foreach (var (k, v) in o)
                if (s.Property(k) is null)
                    res.Merge(ValidateRatcheting(ap, v, path + "." + k, corr?.Key(o, k, path)));
        }
        if (s.Properties is not null)
            foreach (var (name, prop) in s.Properties)
                if (o.TryGetPropertyValue(name, out var v))
                    res.Merge(ValidateRatcheting(prop, v, path.Length == 0 ? name : path + "." + name, corr?.Key(o, name, path)));
        if (s.Required is not null)
            foreach (var k in s.Required)
                if (!o.ContainsKey(k))
                    res.Add(new(OpenApiCode.Required, path + "." + k, $"{path}.{k} in {In} is required", GoValue.None));
        return res;
    }

    // ---- to field errors -----------------------------------------------------------------------

    /// <summary>
    /// apiextensions' kubeOpenAPIResultToFieldErrors: each error becomes a field error at its name (the
    /// leading dot trimmed) under <paramref name="root"/> (null prints as "&lt;nil&gt;", as a nil field.Path does).
    /// </summary>
    public static List<FieldError> ToFieldErrors(OpenApiResult result, string? root)
    {
        var errs = new List<FieldError>();
        foreach (var e in result.Errors)
        {
            if (e.Code == OpenApiCode.Composite)
            {
                errs.Add(FieldError.Invalid(root ?? "<nil>", "", e.Message));
                continue;
            }
            var p = root;
            if (e.Name.Length > 0 && e.Name != ".")
            {
                var name = e.Name.StartsWith('.') ? e.Name[1..] : e.Name;
                p = string.IsNullOrEmpty(root) ? name : root + "." + name;
            }
            var path = p ?? "<nil>";
            var value = e.Value.Nil ? GoValue.String("") : e.Value;
            switch (e.Code)
            {
                case OpenApiCode.Required:
                    errs.Add(FieldError.Required(path));
                    break;
                case OpenApiCode.Enum:
                    var allowed = e.Values!.Select(v => JsonValues.KindOf(v) == K.String ? JsonValues.Str(v!) : JsonValues.Marshal(v)).ToList();
                    errs.Add(new FieldError(FieldErrorType.NotSupported, path, value.Text, allowed.Count == 0 ? "" : "supported values: " + string.Join(", ", allowed.Select(GoText.Quote)), value.IsString));
                    break;
                case OpenApiCode.TooLong:
                    errs.Add(FieldError.TooLong(path, $"may not be more than {e.Valid} bytes"));
                    break;
                case OpenApiCode.MaxItems or OpenApiCode.TooManyProperties:
                    errs.Add(new FieldError(FieldErrorType.TooMany, path, null, $"{value.Text}: must have at most {e.Valid} items"));
                    break;
                case OpenApiCode.InvalidType:
                    errs.Add(new FieldError(FieldErrorType.TypeInvalid, path, value.Text, e.Message, value.IsString));
                    break;
                default:
                    errs.Add(new FieldError(FieldErrorType.Invalid, path, value.Text, e.Message, value.IsString));
                    break;
            }
        }
        return errs;
    }
}

/// <summary>
/// common.CorrelatedObject: a new value's old counterpart, found along the structural schema.
/// </summary>
internal sealed class Correlation(JsonNode? old, JsonSchemaProps? structural)
{
    public JsonNode? Old { get; } = old;
    public JsonSchemaProps? Structural { get; } = structural;

    public Correlation? Key(JsonObject value, string field, string path)
    {
        if (Structural is null || (path.Length == 0 && field is "kind" or "apiVersion")) return null;
        if (Old is not JsonObject old || !old.TryGetPropertyValue(field, out var oldField) || !value.ContainsKey(field)) return null;
        var schema = Structural.Property(field) ?? Structural.AdditionalPropertiesSchema;
        return schema is null ? null : new Correlation(oldField, schema);
    }

    public Correlation? Index(JsonArray value, int i)
    {
        if (Structural is null || Old is not JsonArray old || i >= value.Count || Structural.XListType != "map" || Structural.Items is null) return null;
        if (value[i] is not JsonObject item) return null;
        var keys = Structural.XListMapKeys ?? [];
        foreach (var candidate in old)
        {
            if (candidate is not JsonObject c) continue;
            var same = true;
            foreach (var k in keys)
            {
                item.TryGetPropertyValue(k, out var a);
                c.TryGetPropertyValue(k, out var b);
                if (!JsonValues.DeepEqual(a, b)) { same = false; break; }
            }
            if (same) return new Correlation(c, Structural.Items);
        }
        return null;
    }
}

/// <summary>Patterns compiled once; Go's RE2 syntax read by .NET's engine (close for the patterns CRDs use).</summary>
internal static class Patterns
{
    private static readonly ConcurrentDictionary<string, (Regex?, string?)> Cache = new();

    public static (Regex? Regex, string? Error) Compile(string pattern) => Cache.GetOrAdd(pattern, p =>
    {
        if (Re2Refusal(p) is { } refusal) return (null, refusal);
        try { return (new Regex(Translate(p), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), null); }
        catch (ArgumentException e) { return (null, "error parsing regexp: " + e.Message); }
    });

    // Perl syntax RE2 does not have: Go's regexp.Compile refuses it with these texts.
    private static string? Re2Refusal(string p)
    {
        foreach (var perl in new[] { "(?=", "(?!", "(?<=", "(?<!", "(?>" })
            if (p.Contains(perl, StringComparison.Ordinal))
                return $"error parsing regexp: invalid or unsupported Perl syntax: `{perl}`";
        for (var i = 0; i + 1 < p.Length; i++)
        {
            if (p[i] != '\\') continue;
            // \1-\7 followed by an octal digit is an octal escape; alone (a backreference), or \8 and \9, it is refused
            var octalFollows = p[i + 1] is >= '1' and <= '7' && i + 2 < p.Length && p[i + 2] is >= '0' and <= '7';
            if (char.IsAsciiDigit(p[i + 1]) && p[i + 1] != '0' && !octalFollows) return $"error parsing regexp: invalid escape sequence: `\\{p[i + 1]}`";
            i++;
        }
        return null;
    }

    // RE2's ASCII classes (\d, \w, \s) and its end of text for $ (no multi-line flag), in .NET's syntax.
    private static string Translate(string p)
    {
        var multiline = p.Contains("(?m", StringComparison.Ordinal) || p.Contains("(?sm", StringComparison.Ordinal) || p.Contains("(?im", StringComparison.Ordinal);
        var sb = new System.Text.StringBuilder(p.Length + 16);
        var inClass = false;
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\' && i + 1 < p.Length)
            {
                var n = p[i + 1];
                i++;
                switch (n)
                {
                    case 'd': sb.Append(inClass ? "0-9" : "[0-9]"); break;
                    case 'w': sb.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]"); break;
                    case 's': sb.Append(inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]"); break;
                    case 'D' when !inClass: sb.Append("[^0-9]"); break;
                    case 'W' when !inClass: sb.Append("[^0-9A-Za-z_]"); break;
                    case 'S' when !inClass: sb.Append("[^\\t\\n\\f\\r ]"); break;
                    default: sb.Append(c).Append(n); break;
                }
                continue;
            }
            if (inClass) { if (c == ']') inClass = false; sb.Append(c); continue; }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                // a ']' right after '[' or '[^' is a literal
                if (i + 1 < p.Length && p[i + 1] == '^') { sb.Append('^'); i++; }
                if (i + 1 < p.Length && p[i + 1] == ']') { sb.Append("\\]"); i++; }
                continue;
            }
            if (c == '$' && !multiline) { sb.Append("\\z"); continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
