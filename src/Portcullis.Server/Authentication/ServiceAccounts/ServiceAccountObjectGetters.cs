using System.Text.Json.Nodes;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// How token issuing and validation read the objects a token names: each returns the stored
/// object, or null when it does not exist (any other failure throws). Nodes are cluster-scoped
/// and are asked for with an empty namespace; without a node getter, tokens bound to a node
/// fail and pod-bound tokens record only the node's name.
/// </summary>
public sealed record ServiceAccountObjectGetters(
    Func<string, string, CancellationToken, Task<JsonObject?>> ServiceAccounts,
    Func<string, string, CancellationToken, Task<JsonObject?>> Pods,
    Func<string, string, CancellationToken, Task<JsonObject?>> Secrets,
    Func<string, string, CancellationToken, Task<JsonObject?>>? Nodes = null);
