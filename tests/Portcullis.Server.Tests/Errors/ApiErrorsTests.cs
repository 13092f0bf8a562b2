using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Errors;

/// <summary>k8s.io/apimachinery/pkg/api/errors constructors and the metav1.Status they write.</summary>
public sealed class ApiErrorsTests
{
    private static string Json(ApiException e) => GoJsonWriter.ToString(e.ToStatus());

    [Fact]
    public void NotFound_CoreResource_MessageCodeReasonDetails()
    {
        var e = ApiErrors.NotFound("pods", "", "web");
        Assert.Equal(404, e.Code);
        Assert.Equal("NotFound", e.Reason);
        Assert.Equal("pods \"web\" not found", e.Message);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}""",
            Json(e));
    }

    [Fact]
    public void NotFound_GroupedResource_QualifiesAndReportsGroup()
    {
        var e = ApiErrors.NotFound("deployments", "apps", "web");
        Assert.Equal("deployments.apps \"web\" not found", e.Message);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"web\" not found","reason":"NotFound","details":{"name":"web","group":"apps","kind":"deployments"},"code":404}""",
            Json(e));
    }

    [Fact]
    public void PathNotFound_HasEmptyDetails()
    {
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}""",
            Json(ApiErrors.PathNotFound()));
    }

    [Fact]
    public void AlreadyExists_Message_IsUpstreams()
    {
        var e = ApiErrors.AlreadyExists("configmaps", "", "cfg");
        Assert.Equal(409, e.Code);
        Assert.Equal("AlreadyExists", e.Reason);
        Assert.Equal("configmaps \"cfg\" already exists", e.Message);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"cfg\" already exists","reason":"AlreadyExists","details":{"name":"cfg","kind":"configmaps"},"code":409}""",
            Json(e));
    }

    [Fact]
    public void Conflict_OptimisticLock_MessageIsUpstreams()
    {
        var e = ApiErrors.Conflict("deployments", "apps", "web", ApiErrors.OptimisticLockMessage);
        Assert.Equal(409, e.Code);
        Assert.Equal("Conflict", e.Reason);
        Assert.Equal("Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again", e.Message);
        Assert.Contains("\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"deployments\"}", Json(e));
    }

    [Fact]
    public void Invalid_SingleError_MessageAndCauses()
    {
        var e = ApiErrors.Invalid("ConfigMap", "", "Bad_Name", [FieldError.Invalid("metadata.name", "Bad_Name", "a lowercase RFC 1123 subdomain must consist of ...")]);
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of ...", e.Message);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of ...","reason":"Invalid","details":{"name":"Bad_Name","kind":"ConfigMap","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of ...","field":"metadata.name"}]},"code":422}""",
            Json(e));
    }

    [Fact]
    public void Invalid_SeveralErrors_AreBracketedAndCommaSeparated()
    {
        var e = ApiErrors.Invalid("Deployment", "apps", "web",
        [
            FieldError.Required("spec.template.spec.containers"),
            FieldError.NotSupported("spec.strategy.type", "Fast", ["Recreate", "RollingUpdate"]),
        ]);
        Assert.Equal("Deployment.apps \"web\" is invalid: [spec.template.spec.containers: Required value, spec.strategy.type: Unsupported value: \"Fast\": supported values: \"Recreate\", \"RollingUpdate\"]", e.Message);
        var json = Json(e);
        Assert.Contains("\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":\"Deployment\",\"causes\":[", json);
        Assert.Contains("""{"reason":"FieldValueRequired","message":"Required value","field":"spec.template.spec.containers"}""", json);
        Assert.Contains("""{"reason":"FieldValueNotSupported","message":"Unsupported value: \"Fast\": supported values: \"Recreate\", \"RollingUpdate\"","field":"spec.strategy.type"}""", json);
    }

    [Fact]
    public void Invalid_DuplicateMessages_CollapseInTheMessageButNotTheCauses()
    {
        var err = FieldError.Invalid("metadata.labels", "x y", "bad");
        var e = ApiErrors.Invalid("Pod", "", "p", [err, err]);
        Assert.Equal("Pod \"p\" is invalid: metadata.labels: Invalid value: \"x y\": bad", e.Message);
        Assert.Equal(2, e.Causes!.Count);
    }

    [Fact]
    public void Invalid_NoErrors_HasNoColon()
    {
        Assert.Equal("Pod \"p\" is invalid", ApiErrors.Invalid("Pod", "", "p", []).Message);
    }

    [Fact]
    public void Forbidden_NamedResource_MessageAndDetails()
    {
        var e = ApiErrors.Forbidden("secrets", "", "s1", "User \"bob\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\"");
        Assert.Equal(403, e.Code);
        Assert.Equal("Forbidden", e.Reason);
        Assert.Equal("secrets \"s1\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\"", e.Message);
        Assert.Contains("\"reason\":\"Forbidden\",\"details\":{\"name\":\"s1\",\"kind\":\"secrets\"},\"code\":403}", Json(e));
    }

    [Fact]
    public void Forbidden_Collection_HasNoName()
    {
        Assert.Equal("deployments.apps is forbidden: nope", ApiErrors.Forbidden("deployments", "apps", "", "nope").Message);
    }

    [Fact]
    public void Forbidden_NoResource_SaysForbiddenAndEmptyDetails()
    {
        var e = ApiErrors.Forbidden("", "", "", "User \"bob\" cannot get path \"/metrics\"");
        Assert.Equal("forbidden: User \"bob\" cannot get path \"/metrics\"", e.Message);
        Assert.Contains("\"details\":{},\"code\":403}", Json(e));
    }

    [Fact]
    public void Forbidden_NoResourceButName_StillSaysForbidden()
    {
        Assert.Equal("forbidden: why", ApiErrors.Forbidden("", "", "x", "why").Message);
    }

    [Fact]
    public void Unauthorized_HasNoDetails()
    {
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}""",
            Json(ApiErrors.Unauthorized()));
    }

    [Fact]
    public void BadRequest_HasNoDetails()
    {
        var e = ApiErrors.BadRequest("bad");
        Assert.Equal(400, e.Code);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"bad","reason":"BadRequest","code":400}""",
            Json(e));
    }

    [Fact]
    public void MethodNotSupported_MessageAndDetailsWithoutName()
    {
        var e = ApiErrors.MethodNotSupported("pods", "", "deletecollection");
        Assert.Equal(405, e.Code);
        Assert.Equal("MethodNotAllowed", e.Reason);
        Assert.Equal("deletecollection is not supported on resources of kind \"pods\"", e.Message);
        Assert.Contains("\"details\":{\"kind\":\"pods\"}", Json(e));
    }

    [Fact]
    public void Internal_PrefixesMessageAndCarriesACause()
    {
        var e = ApiErrors.Internal("boom");
        Assert.Equal(500, e.Code);
        Assert.Equal("Internal error occurred: boom", e.Message);
        Assert.Contains("\"reason\":\"InternalError\",\"details\":{\"causes\":[{\"message\":\"boom\"}]},\"code\":500}", Json(e));
    }

    [Fact]
    public void ResourceExpired_IsGoneExpiredWithoutDetails()
    {
        var e = ApiErrors.ResourceExpired("too old resource version: 1 (5)");
        Assert.Equal(410, e.Code);
        Assert.Equal("Expired", e.Reason);
        Assert.DoesNotContain("details", Json(e));
    }

    [Fact]
    public void Status_FieldOrder_IsGoOrder()
    {
        var status = ApiErrors.NotFound("pods", "", "x").ToStatus();
        Assert.Equal(["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"], status.Select(kv => kv.Key));
    }

    [Fact]
    public void Status_DetailsFieldOrder_IsGoOrder()
    {
        var e = new ApiException(409, "Conflict", "m")
        {
            DetailName = "n", DetailGroup = "g", DetailKind = "k", DetailUid = "u",
            Causes = [new StatusCause("r", "msg", "f")], RetryAfterSeconds = 3,
        };
        var details = (System.Text.Json.Nodes.JsonObject)e.ToStatus()["details"]!;
        Assert.Equal(["name", "group", "kind", "uid", "causes", "retryAfterSeconds"], details.Select(kv => kv.Key));
    }

    [Fact]
    public void Status_Pretty_IsIndentedLikeMarshalIndent()
    {
        Assert.Equal(
            "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {},\n  \"status\": \"Failure\",\n  \"message\": \"pods \\\"x\\\" not found\",\n  \"reason\": \"NotFound\",\n  \"details\": {\n    \"name\": \"x\",\n    \"kind\": \"pods\"\n  },\n  \"code\": 404\n}",
            GoJsonWriter.ToString(ApiErrors.NotFound("pods", "", "x").ToStatus(), pretty: true));
    }

    [Theory]
    [InlineData(FieldErrorType.Required, "FieldValueRequired")]
    [InlineData(FieldErrorType.Invalid, "FieldValueInvalid")]
    [InlineData(FieldErrorType.Duplicate, "FieldValueDuplicate")]
    [InlineData(FieldErrorType.NotSupported, "FieldValueNotSupported")]
    [InlineData(FieldErrorType.Forbidden, "FieldValueForbidden")]
    [InlineData(FieldErrorType.TooLong, "FieldValueTooLong")]
    [InlineData(FieldErrorType.TooMany, "FieldValueTooMany")]
    [InlineData(FieldErrorType.NotFound, "FieldValueNotFound")]
    public void FieldError_CauseReason_IsUpstreamCauseType(FieldErrorType type, string reason)
    {
        Assert.Equal(reason, new FieldError(type, "f", "v", "").CauseReason);
    }

    [Fact]
    public void FieldError_ToString_FormatsLikeFieldError()
    {
        Assert.Equal("spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            FieldError.Invalid("spec.replicas", "-1", "must be greater than or equal to 0", quoted: false).ToString());
        Assert.Equal("spec.containers[0].name: Duplicate value: \"c\"", FieldError.Duplicate("spec.containers[0].name", "c").ToString());
        Assert.Equal("spec.x: Forbidden: no", FieldError.Forbidden("spec.x", "no").ToString());
        Assert.Equal("metadata.name: Required value", FieldError.Required("metadata.name").ToString());
    }

    [Fact]
    public void FieldError_StringValues_AreQuotedAsGoPercentQ()
    {
        // field.Error.ErrorBody prints a string BadValue with %q, and NotSupported quotes each value with strconv.Quote.
        Assert.Equal("data[a\"b]: Invalid value: \"a\\\"b\\n\\u00a0\": bad",
            FieldError.Invalid("data[a\"b]", "a\"b\n\u00a0", "bad").ToString());
        Assert.Equal("spec.x: Duplicate value: \"c\\\\d\"", FieldError.Duplicate("spec.x", "c\\d").ToString());
        Assert.Equal("spec.type: Unsupported value: \"x\\ty\": supported values: \"a\\\"b\", \"c\"",
            FieldError.NotSupported("spec.type", "x\ty", ["a\"b", "c"]).ToString());
    }
}
