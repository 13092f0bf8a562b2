using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Http;

/// <summary>ListOptions and DeleteOptions read and validated as kube-apiserver 1.33 does.</summary>
public sealed class ListAndDeleteOptionsTests
{
    private static ListOptions Parse(string query)
    {
        var q = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        return ListOptions.FromQuery(k => q.TryGetValue(k, out var v) ? v.ToString() : null);
    }

    private static ApiException Refused(string query) => Assert.Throws<ApiException>(() => Parse(query));

    [Theory]
    [InlineData("timeoutSeconds=abc", "strconv.ParseInt: parsing \"abc\": invalid syntax")]
    [InlineData("timeoutSeconds=", "strconv.ParseInt: parsing \"\": invalid syntax")]
    [InlineData("timeoutSeconds=99999999999999999999", "strconv.ParseInt: parsing \"99999999999999999999\": value out of range")]
    [InlineData("limit=1.5", "strconv.ParseInt: parsing \"1.5\": invalid syntax")]
    public void IntegerParameters_BadValues_Are400WithTheStrconvError(string query, string message)
    {
        var e = Refused(query);
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("watch=1&timeoutSeconds=-1", -1L)]
    [InlineData("watch=1&timeoutSeconds=2147483647", 2147483647L)]
    [InlineData("watch=1&timeoutSeconds=%2B7", 7L)]
    [InlineData("watch=1&timeoutSeconds=9223372036854775807", long.MaxValue)]
    public void TimeoutSeconds_IsAnInt64(string query, long expected) => Assert.Equal(expected, Parse(query).TimeoutSeconds);

    [Theory]
    [InlineData("resourceVersionMatch=Exact",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")]
    [InlineData("resourceVersionMatch=Exact&resourceVersion=0",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")]
    [InlineData("resourceVersionMatch=Foo&resourceVersion=5",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"Foo\": supported values: \"Exact\", \"NotOlderThan\", \"\"")]
    [InlineData("resourceVersionMatch=NotOlderThan&resourceVersion=5&continue=abc",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided")]
    [InlineData("sendInitialEvents=true",
        "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list")]
    [InlineData("watch=1&resourceVersionMatch=NotOlderThan",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")]
    [InlineData("watch=1&resourceVersionMatch=Exact&resourceVersion=5",
        "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]")]
    [InlineData("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
        "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")]
    [InlineData("watch=1&sendInitialEvents=true",
        "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled]")]
    public void ValidateListOptions_Refusals_Are422(string query, string message)
    {
        var e = Refused(query);
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal(message, e.Message);
        Assert.Equal("ListOptions", e.DetailKind);
        Assert.Equal("meta.k8s.io", e.DetailGroup);
    }

    [Theory]
    [InlineData("resourceVersionMatch=Exact&resourceVersion=5")]
    [InlineData("resourceVersionMatch=NotOlderThan&resourceVersion=0")]
    [InlineData("watch=1&resourceVersion=5")]
    public void ValidateListOptions_Accepts(string query) => Assert.Equal(query.Contains("watch"), Parse(query).Watch);

    private static ParsedDeleteOptions Body(string json) => DeleteOptionsDecoder.FromBody(JsonNode.Parse(json));

    [Theory]
    [InlineData("""{"preconditions":{"uid":5}}""", "json: cannot unmarshal number into Go struct field Preconditions.preconditions.uid of type types.UID")]
    [InlineData("""{"preconditions":{"resourceVersion":true}}""", "json: cannot unmarshal bool into Go struct field Preconditions.preconditions.resourceVersion of type string")]
    [InlineData("""{"preconditions":"x"}""", "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of type v1.Preconditions")]
    [InlineData("""{"gracePeriodSeconds":"5"}""", "json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64")]
    [InlineData("""{"gracePeriodSeconds":99999999999999999999}""", "json: cannot unmarshal number 99999999999999999999 into Go struct field DeleteOptions.gracePeriodSeconds of type int64")]
    [InlineData("""{"gracePeriodSeconds":1.5}""", "json: cannot unmarshal number 1.5 into Go struct field DeleteOptions.gracePeriodSeconds of type int64")]
    [InlineData("""{"propagationPolicy":1}""", "json: cannot unmarshal number into Go struct field DeleteOptions.propagationPolicy of type v1.DeletionPropagation")]
    [InlineData("""{"orphanDependents":"true"}""", "json: cannot unmarshal string into Go struct field DeleteOptions.orphanDependents of type bool")]
    [InlineData("""{"dryRun":"All"}""", "json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type []string")]
    [InlineData("""{"dryRun":[1]}""", "json: cannot unmarshal number into Go struct field DeleteOptions.dryRun of type string")]
    [InlineData("""{"orphanDependents":1,"gracePeriodSeconds":"x"}""", "json: cannot unmarshal number into Go struct field DeleteOptions.orphanDependents of type bool")]
    public void DeleteOptionsBody_WrongTypes_FailTheRequestWithTheDecodersError(string json, string message)
    {
        var e = Assert.Throws<ApiException>(() => Body(json));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void DeleteOptionsBody_WellTyped_IsRead()
    {
        var o = Body("""{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":-3,"preconditions":{"uid":"u","resourceVersion":null},"propagationPolicy":"Foreground","dryRun":["All"],"unknown":{}}""");
        Assert.Equal(new ParsedDeleteOptions(-3, "u", null, null, "Foreground", o.DryRun), o);
        Assert.Equal(["All"], o.DryRun!);
    }

    private static ParsedDeleteOptions Query(string query)
    {
        var q = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        return DeleteOptionsDecoder.FromQuery(k => q.TryGetValue(k, out var v) ? v.Select(x => x ?? "").ToList() : null);
    }

    [Fact]
    public void DeleteOptionsQuery_HugeGracePeriod_Is400()
    {
        var e = Assert.Throws<ApiException>(() => Query("gracePeriodSeconds=99999999999999999999"));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal("strconv.ParseInt: parsing \"99999999999999999999\": value out of range", e.Message);
    }

    [Theory]
    [InlineData("propagationPolicy=Sideways",
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")]
    [InlineData("propagationPolicy=Orphan&orphanDependents=false",
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"Orphan\": orphanDependents and deletionPropagation cannot be both set")]
    [InlineData("dryRun=Some",
        "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\"")]
    [InlineData("dryRun=All&dryRun=x",
        "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"All\", \"x\"}: supported values: \"All\"")]
    public void ValidateDeleteOptions_Refusals_Are422(string query, string message)
    {
        var e = Assert.Throws<ApiException>(() => DeleteOptionsDecoder.Validate(Query(query)));
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal(message, e.Message);
        Assert.Equal("DeleteOptions", e.DetailKind);
    }

    [Fact]
    public void ValidateDeleteOptions_BodyRulesAreTheSame()
    {
        var e = Assert.Throws<ApiException>(() => DeleteOptionsDecoder.Validate(Body("""{"orphanDependents":true,"propagationPolicy":"Background"}""")));
        Assert.Equal("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"Background\": orphanDependents and deletionPropagation cannot be both set", e.Message);
        DeleteOptionsDecoder.Validate(Query("propagationPolicy=Background&dryRun=All&gracePeriodSeconds=-1"));
    }
}
