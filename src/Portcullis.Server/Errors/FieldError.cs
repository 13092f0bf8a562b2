namespace Portcullis.Server.Errors;

public enum FieldErrorType { Required, Invalid, Duplicate, NotSupported, Forbidden, TooLong, TooMany, NotFound, TypeInvalid, Internal }

/// <summary>
/// A validation error on one field (k8s.io/apimachinery/pkg/util/validation/field.Error),
/// printed as upstream prints it: <c>metadata.name: Invalid value: "Bad_Name": a lowercase …</c>.
/// </summary>
public sealed record FieldError(FieldErrorType Type, string Field, string? BadValue, string Detail, bool ValueIsString = true)
{
    public static FieldError Required(string field, string detail = "") => new(FieldErrorType.Required, field, null, detail);
    public static FieldError Invalid(string field, string? value, string detail, bool quoted = true) => new(FieldErrorType.Invalid, field, value, detail, quoted);
    public static FieldError Forbidden(string field, string detail) => new(FieldErrorType.Forbidden, field, null, detail);
    public static FieldError Duplicate(string field, string value) => new(FieldErrorType.Duplicate, field, value, "");
    public static FieldError InternalError(string field, string detail) => new(FieldErrorType.Internal, field, null, detail);
    public static FieldError TooLong(string field, string detail) => new(FieldErrorType.TooLong, field, null, detail);
    public static FieldError NotSupported(string field, string value, IEnumerable<string> valid) =>
        new(FieldErrorType.NotSupported, field, value, "supported values: " + string.Join(", ", valid.Select(Serialization.GoText.Quote)));

    public string CauseReason => Type switch
    {
        FieldErrorType.Required => "FieldValueRequired",
        FieldErrorType.Invalid => "FieldValueInvalid",
        FieldErrorType.Duplicate => "FieldValueDuplicate",
        FieldErrorType.NotSupported => "FieldValueNotSupported",
        FieldErrorType.Forbidden => "FieldValueForbidden",
        FieldErrorType.TooLong => "FieldValueTooLong",
        FieldErrorType.TooMany => "FieldValueTooMany",
        FieldErrorType.TypeInvalid => "FieldValueTypeInvalid",
        FieldErrorType.Internal => "InternalError",
        _ => "FieldValueNotFound",
    };

    private string TypeText => Type switch
    {
        FieldErrorType.Required => "Required value",
        FieldErrorType.Invalid => "Invalid value",
        FieldErrorType.Duplicate => "Duplicate value",
        FieldErrorType.NotSupported => "Unsupported value",
        FieldErrorType.Forbidden => "Forbidden",
        FieldErrorType.TooLong => "Too long",
        FieldErrorType.TooMany => "Too many",
        FieldErrorType.TypeInvalid => "Invalid value",
        FieldErrorType.Internal => "Internal error",
        _ => "Not found",
    };

    /// <summary>The cause's message: the error without the field path.</summary>
    public string CauseMessage => Body();

    // A string value is printed with %q (field.Error.ErrorBody), as are NotSupported's values (strconv.Quote).
    private string Body()
    {
        var s = TypeText;
        if (Type is FieldErrorType.Invalid or FieldErrorType.Duplicate or FieldErrorType.NotSupported or FieldErrorType.NotFound or FieldErrorType.TypeInvalid)
        {
            var v = BadValue is null ? "null" : ValueIsString ? Serialization.GoText.Quote(BadValue) : BadValue;
            s += ": " + v;
        }
        if (Detail.Length > 0) s += ": " + Detail;
        return s;
    }

    public override string ToString() => Field.Length > 0 ? $"{Field}: {Body()}" : Body();
}
