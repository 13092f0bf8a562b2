using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The Deployment's status and conditions (upstream sync_test.go, progress_test.go, deployment_util_test.go's
/// condition tests), the hash's encoding, and Recreate's wait for old pods.
/// </summary>
public sealed class DeploymentStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Deployment(int replicas, JsonObject? status = null, int progressDeadline = 600) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "web", ["generation"] = 2 },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas, ["progressDeadlineSeconds"] = progressDeadline,
            ["strategy"] = new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxSurge"] = "25%", ["maxUnavailable"] = "25%" } },
        },
        ["status"] = status ?? new JsonObject(),
    };

    private static JsonObject RS(string name, int replicas, int ready, int available, JsonArray? conditions = null) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name, ["uid"] = name },
        ["spec"] = new JsonObject { ["replicas"] = replicas },
        ["status"] = new JsonObject { ["replicas"] = replicas, ["readyReplicas"] = ready, ["availableReplicas"] = available, ["conditions"] = conditions },
    };

    [Fact]
    public void CalculateStatus_SumsTheReplicaSetsAndSetsAvailable()
    {
        var newRS = RS("web-new", 2, 2, 1);
        var oldRS = RS("web-old", 3, 3, 3);
        var s = DeploymentController.CalculateStatus([oldRS, newRS], newRS, Deployment(4), Now);
        Assert.Equal(2, (long?)s["observedGeneration"]);
        Assert.Equal(5, (int?)s["replicas"]);
        Assert.Equal(2, (int?)s["updatedReplicas"]);
        Assert.Equal(5, (int?)s["readyReplicas"]);
        Assert.Equal(4, (int?)s["availableReplicas"]);
        Assert.Equal(1, (int?)s["unavailableReplicas"]);
        Assert.False(s.ContainsKey("terminatingReplicas"));
        var available = DeploymentConditions.Get(s, "Available")!;
        Assert.Equal(("True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
            ((string?)available["status"], (string?)available["reason"], (string?)available["message"]));

        // 4 desired, 1 may be unavailable: 2 available is too few.
        s = DeploymentController.CalculateStatus([RS("web-new", 4, 2, 2)], null, Deployment(4), Now);
        available = DeploymentConditions.Get(s, "Available")!;
        Assert.Equal(("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
            ((string?)available["status"], (string?)available["reason"], (string?)available["message"]));
    }

    [Fact]
    public void SetCondition_KeepsTransitionTimeWhenOnlyTheReasonChanges()
    {
        var status = new JsonObject();
        DeploymentConditions.Set(status, DeploymentConditions.New("Progressing", "True", "NewReplicaSetCreated", "a", Now));
        DeploymentConditions.Set(status, DeploymentConditions.New("Progressing", "True", "ReplicaSetUpdated", "b", Now.AddMinutes(1)));
        var c = DeploymentConditions.Get(status, "Progressing")!;
        Assert.Equal("ReplicaSetUpdated", (string?)c["reason"]);
        Assert.Equal("2026-01-01T12:00:00Z", (string?)c["lastTransitionTime"]);
        Assert.Equal("2026-01-01T12:01:00Z", (string?)c["lastUpdateTime"]);
        // Same status and reason: nothing changes.
        DeploymentConditions.Set(status, DeploymentConditions.New("Progressing", "True", "ReplicaSetUpdated", "c", Now.AddMinutes(2)));
        Assert.Equal("b", (string?)DeploymentConditions.Get(status, "Progressing")!["message"]);
    }

    [Fact]
    public void RolloutStatus_CompleteRolloutIsNewReplicaSetAvailable()
    {
        var newRS = RS("web-abc", 3, 3, 3);
        var d = Deployment(3);
        var s = DeploymentController.RolloutStatus([newRS], newRS, d, Now);
        var p = DeploymentConditions.Get(s, "Progressing")!;
        Assert.Equal(("True", "NewReplicaSetAvailable", "ReplicaSet \"web-abc\" has successfully progressed."),
            ((string?)p["status"], (string?)p["reason"], (string?)p["message"]));
    }

    [Fact]
    public void RolloutStatus_ProgressRefreshesTheUpdateTime()
    {
        var old = new JsonObject
        {
            ["replicas"] = 1, ["updatedReplicas"] = 1,
            ["conditions"] = new JsonArray(DeploymentConditions.New("Progressing", "True", "NewReplicaSetCreated", "Created new replica set \"web-abc\"", Now.AddMinutes(-5))),
        };
        var newRS = RS("web-abc", 2, 2, 2);
        var s = DeploymentController.RolloutStatus([newRS], newRS, Deployment(3, old), Now);
        var p = DeploymentConditions.Get(s, "Progressing")!;
        Assert.Equal(("ReplicaSetUpdated", "ReplicaSet \"web-abc\" is progressing."), ((string?)p["reason"], (string?)p["message"]));
        Assert.Equal("2026-01-01T11:55:00Z", (string?)p["lastTransitionTime"]);
        Assert.Equal("2026-01-01T12:00:00Z", (string?)p["lastUpdateTime"]);
    }

    [Fact]
    public void RolloutStatus_NoProgressPastTheDeadlineTimesOut()
    {
        var old = new JsonObject
        {
            ["replicas"] = 1, ["updatedReplicas"] = 1,
            ["conditions"] = new JsonArray(DeploymentConditions.New("Progressing", "True", "ReplicaSetUpdated", "x", Now.AddSeconds(-61))),
        };
        var newRS = RS("web-abc", 1, 0, 0);
        var s = DeploymentController.RolloutStatus([newRS], newRS, Deployment(1, old, progressDeadline: 60), Now);
        var p = DeploymentConditions.Get(s, "Progressing")!;
        Assert.Equal(("False", "ProgressDeadlineExceeded", "ReplicaSet \"web-abc\" has timed out progressing."),
            ((string?)p["status"], (string?)p["reason"], (string?)p["message"]));
        // Within the deadline it does not.
        s = DeploymentController.RolloutStatus([newRS], newRS, Deployment(1, (JsonObject)old.DeepClone(), progressDeadline: 600), Now);
        Assert.Equal("ReplicaSetUpdated", (string?)DeploymentConditions.Get(s, "Progressing")!["reason"]);
    }

    [Fact]
    public void RolloutStatus_CarriesTheReplicaSetsReplicaFailure()
    {
        var failure = new JsonObject
        {
            ["type"] = "ReplicaFailure", ["status"] = "True", ["reason"] = "FailedCreate",
            ["message"] = "pods \"web-abc-x\" is forbidden: violates PodSecurity", ["lastTransitionTime"] = "2026-01-01T11:00:00Z",
        };
        var newRS = RS("web-abc", 1, 0, 0, new JsonArray(failure));
        var s = DeploymentController.RolloutStatus([newRS], newRS, Deployment(1), Now);
        var c = DeploymentConditions.Get(s, "ReplicaFailure")!;
        Assert.Equal(("True", "FailedCreate", "2026-01-01T11:00:00Z"), ((string?)c["status"], (string?)c["reason"], (string?)c["lastUpdateTime"]));
        // Gone from the ReplicaSet, gone from the Deployment.
        var d = Deployment(1, s);
        var healthy = RS("web-abc", 1, 1, 1);
        s = DeploymentController.RolloutStatus([healthy], healthy, d, Now);
        Assert.Null(DeploymentConditions.Get(s, "ReplicaFailure"));
    }

    [Fact]
    public void SameStatus_TreatsZeroCountsAsAbsent() =>
        Assert.True(DeploymentController.SameStatus(new JsonObject { ["observedGeneration"] = 1 },
            new JsonObject { ["observedGeneration"] = 1, ["replicas"] = 0, ["conditions"] = new JsonArray() }));

    [Fact]
    public void OldPodsRunning_CountsNonTerminalPodsOfOldReplicaSets()
    {
        var newRS = RS("new", 1, 0, 0);
        var oldRS = RS("old", 0, 0, 0);
        oldRS["status"]!["replicas"] = 0;
        var pod = new JsonObject { ["status"] = new JsonObject { ["phase"] = "Running" } };
        var done = new JsonObject { ["status"] = new JsonObject { ["phase"] = "Succeeded" } };
        Assert.True(DeploymentController.OldPodsRunning(newRS, [oldRS], new() { ["old"] = [pod] }));
        Assert.False(DeploymentController.OldPodsRunning(newRS, [oldRS], new() { ["old"] = [done], ["new"] = [pod] }));
    }

    [Fact]
    public void Hash_SafeEncodesTheFnv32aSumInDecimal()
    {
        // FNV-32a("a") = 3826002220; SafeEncodeString maps '0'..'9' to 4 5 6 7 8 9 b c d f.
        Assert.Equal(3826002220u, PodTemplateHash.Fnv32a.Add(PodTemplateHash.Fnv32a.Offset, "a"u8));
        Assert.Equal("7d6b446664", PodTemplateHash.SafeEncode("3826002220"));
        var template = JsonNode.Parse("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}""")!.AsObject();
        var h = PodTemplateHash.Compute(template, null);
        Assert.Matches("^[456789bcdf]{1,10}$", h);
        Assert.Equal(h, PodTemplateHash.Compute((JsonObject)template.DeepClone(), null));
        Assert.NotEqual(h, PodTemplateHash.Compute(template, 1));
        template["spec"]!["containers"]![0]!["image"] = "nginx:2";
        Assert.NotEqual(h, PodTemplateHash.Compute(template, null));
    }
}
