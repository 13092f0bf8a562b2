using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Upstream's apply_test.go, part 4: duplicated items of associative lists (TestDuplicatesInAssociativeLists).</summary>
public sealed partial class ServerSideApplyIntegrationTests
{
    private const string DaemonSetCreateEntry = """
        {
            "manager": "create",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": null,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": ANNOTATIONS,
                    "f:labels": {".": {}, "f:app": {}}
                },
                "f:spec": {
                    "f:revisionHistoryLimit": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                "k:{\"name\":\"nginx\"}": {
                                    ".": {},
                                    "f:env": {
                                        ".": {},
                                        "k:{\"name\":\"ENV0\"}": {".": {}, "f:name": {}, "f:value": {}}PATHENV
                                    },
                                    "f:image": {},
                                    "f:imagePullPolicy": {},
                                    "f:name": {},
                                    "f:ports": {
                                        ".": {},
                                        "k:{\"containerPort\":1,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}PORT80
                                    },
                                    "f:resources": {},
                                    "f:terminationMessagePath": {},
                                    "f:terminationMessagePolicy": {}
                                }
                            },
                            "f:dnsPolicy": {},
                            "f:restartPolicy": {},
                            "f:schedulerName": {},
                            "f:securityContext": {},
                            "f:terminationGracePeriodSeconds": {}
                        }
                    },
                    "f:updateStrategy": {
                        "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                        "f:type": {}
                    }
                }
            }
        }
        """;

    private static string CreateEntry(bool full) => DaemonSetCreateEntry
        .Replace("ANNOTATIONS", full ? """{".": {}, "f:deprecated.daemonset.template.generation": {}}""" : "{}")
        .Replace("PATHENV", full ? """, "k:{\"name\":\"PATH\"}": {}""" : "")
        .Replace("PORT80", full ? """, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}""" : "");

    private static string ApplyEntry(string env, string port) => Fill("""
        {
            "manager": "apply",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": null,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:selector": {},
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                "k:{\"name\":\"nginx\"}": {
                                    ".": {},
                                    "f:env": {"k:{\"name\":\"⟨0⟩\"}": {".": {}, "f:name": {}, "f:value": {}}},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {"k:{\"containerPort\":⟨1⟩,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}}
                                }
                            }
                        }
                    }
                }
            }
        }
        """, env, port);

    // TestDuplicatesInAssociativeLists
    [Fact]
    public async Task DuplicatesInAssociativeLists()
    {
        const string name = "example-daemonset";
        string Ds(string ports, string env) => Fill("""
            {
              "apiVersion": "apps/v1",
              "kind": "DaemonSet",
              "metadata": {"name": "⟨0⟩", "labels": {"app": "example"}},
              "spec": {
                "selector": {"matchLabels": {"app": "example"}},
                "template": {
                  "metadata": {"labels": {"app": "example"}},
                  "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [⟨1⟩], "env": [⟨2⟩]}]}
                }
              }
            }
            """, name, ports, env);
        var created = Ok(await Post(Apps("daemonsets"), Ds(
            """{"name": "port0", "containerPort": 1}, {"name": "port1", "containerPort": 80}, {"name": "port2", "containerPort": 80}""",
            """{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"}, {"name": "PATH", "value": "$PATH:/usr/bin"}"""), "create"), 201);
        JsonArray Env(JsonObject d) => d["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        JsonArray Ports(JsonObject d) => d["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]!.AsArray();
        Assert.Equal(3, Env(created).Count);
        Assert.Equal(3, Ports(created).Count);
        ExpectManagedFields(created, "[" + CreateEntry(true) + "]");

        // Applying unrelated fields: the field manager is strictly additive.
        var applied = Ok(await Apply(Apps("daemonsets", name), """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: example-daemonset
              labels:
                app: example
            spec:
              selector:
                matchLabels:
                  app: example
              template:
                spec:
                  containers:
                    - name: nginx
                      image: nginx
                      ports:
                        - name: port3
                          containerPort: 443
                      env:
                        - name: HOME
                          value: "/usr/home"
            """, "apply"), 200);
        Assert.Equal(4, Env(applied).Count);
        Assert.Equal(4, Ports(applied).Count);
        ExpectManagedFields(applied, "[" + ApplyEntry("HOME", "443") + "," + CreateEntry(true) + "]");

        // Renaming some ports with an update.
        var updated = Ok(await Put(Apps("daemonsets", name), Ds(
            """{"name": "port0", "containerPort": 1}, {"name": "port3", "containerPort": 443}, {"name": "port4", "containerPort": 80}, {"name": "port5", "containerPort": 80}""",
            """{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"}, {"name": "PATH", "value": "$PATH:/usr/bin:/usr/local/bin"}, {"name": "HOME", "value": "/usr/home"}"""),
            "update"), 200);
        Assert.Equal(4, Env(updated).Count);
        Assert.Equal(4, Ports(updated).Count);
        ExpectManagedFields(updated, "[" + ApplyEntry("HOME", "443") + "," + CreateEntry(false) + "," + """
            {
                "manager": "update",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": null,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:annotations": {"f:deprecated.daemonset.template.generation": {}}},
                    "f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        "f:env": {"k:{\"name\":\"PATH\"}": {}},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}}
                    }}}}}
                }
            }]
            """);

        // Replacing env vars and ports with a forced apply.
        var forced = Ok(await Apply(Apps("daemonsets", name), """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: example-daemonset
              labels:
                app: example
            spec:
              selector:
                matchLabels:
                  app: example
              template:
                spec:
                  containers:
                    - name: nginx
                      image: nginx
                      ports:
                        - name: port80
                          containerPort: 80
                      env:
                        - name: PATH
                          value: "/bin:/usr/bin:/usr/local/bin"
            """, "apply", force: true), 200);
        // HOME is removed, PATH is replaced with one.
        Assert.Equal(2, Env(forced).Count);
        Assert.Equal(2, Ports(forced).Count);
        ExpectManagedFields(forced, "[" + ApplyEntry("PATH", "80") + "," + CreateEntry(false) + "," + """
            {
                "manager": "update",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": null,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {"f:deprecated.daemonset.template.generation": {}}}}
            }]
            """);
    }
}
