using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>A finished container instance, as the kubelet reports it (state.terminated / lastState.terminated).</summary>
public sealed record Termination(int ExitCode, string Reason, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string ContainerId, string? Message = null)
{
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["exitCode"] = ExitCode, ["reason"] = Reason };
        if (Message is not null) o["message"] = Message;
        o["startedAt"] = ObjectShaper.FormatTime(StartedAt);
        o["finishedAt"] = ObjectShaper.FormatTime(FinishedAt);
        if (ContainerId.Length > 0) o["containerID"] = ContainerId;
        return o;
    }

    /// <summary>The kubelet's reason for an exit: Completed for 0, Error otherwise.</summary>
    public static string ReasonFor(int exitCode) => exitCode == 0 ? "Completed" : "Error";
}

/// <summary>
/// What the process runtime knows about one container of a pod: its current state (waiting,
/// running or terminated), the previous termination, and how often it was restarted.
/// </summary>
public sealed class ContainerState(string name, bool init)
{
    public string Name { get; } = name;
    public bool Init { get; } = init;
    /// <summary>An ephemeral container (kubectl debug): started once, never restarted, never part of readiness.</summary>
    public bool Ephemeral { get; init; }
    public int RestartCount { get; set; }
    public string? WaitingReason { get; set; } = "ContainerCreating";
    public string? WaitingMessage { get; set; }
    public DateTimeOffset? RunningSince { get; set; }
    public Termination? Terminated { get; set; }
    public Termination? LastTerminated { get; set; }
    public string ContainerId { get; set; } = "";
    /// <summary>Stays terminated: the restart policy does not bring it back.</summary>
    public bool Done { get; set; }
    /// <summary>Ever started (the kubelet's started flag is about the current instance; this is about history).</summary>
    public bool EverRan => RunningSince is not null || Terminated is not null || LastTerminated is not null;

    public bool Running => RunningSince is not null && Terminated is null;

    public JsonObject StateJson()
    {
        if (Running) return new JsonObject { ["running"] = new JsonObject { ["startedAt"] = ObjectShaper.FormatTime(RunningSince!.Value) } };
        if (Terminated is not null && WaitingReason is null) return new JsonObject { ["terminated"] = Terminated.ToJson() };
        var w = new JsonObject { ["reason"] = WaitingReason ?? "ContainerCreating" };
        if (WaitingMessage is not null) w["message"] = WaitingMessage;
        return new JsonObject { ["waiting"] = w };
    }

    /// <summary>lastState: the termination before the current instance (the current one while it waits to restart).</summary>
    public JsonObject LastStateJson()
    {
        var last = WaitingReason is not null && Terminated is not null ? Terminated : LastTerminated;
        return last is null ? new JsonObject() : new JsonObject { ["terminated"] = last.ToJson() };
    }
}
