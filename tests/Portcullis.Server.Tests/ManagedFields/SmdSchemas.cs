// The schemas of structured-merge-diff v4.6.0 merge tests (its schema YAML) written as CRD OpenAPI schemas:
// associative scalar list = x-kubernetes-list-type: set; associative list with keys = list-type map + keys;
// atomic list = no list type; map with elementType = additionalProperties; atomic map = x-kubernetes-map-type: atomic;
// untyped/deduced = x-kubernetes-preserve-unknown-fields. A recursive type (mapOfMapsRecursive) is unrolled six
// levels deep, ending in a free-form object (a deduced value is a granular map of maps, as the recursive type).
// A struct with both fields and an elementType (preserveUnknownParser) keeps unknown fields.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

internal static class SmdSchemas
{
    /// <summary>setFieldsParser (merge/set_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape SetFieldsParser = Shape("""
        {
          "type": "object",
          "properties": {
            "list": {
              "type": "array",
              "items": {
                "type": "string"
              },
              "x-kubernetes-list-type": "set"
            }
          }
        }
        """);

    /// <summary>associativeListParser (merge/key_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape AssociativeListParser = Shape("""
        {
          "type": "object",
          "properties": {
            "list": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value": {
                    "type": "number"
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "name"
              ]
            }
          }
        }
        """);

    /// <summary>leafFieldsParser (merge/leaf_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape LeafFieldsParser = Shape("""
        {
          "type": "object",
          "properties": {
            "numeric": {
              "type": "number"
            },
            "string": {
              "type": "string"
            },
            "bool": {
              "type": "boolean"
            }
          }
        }
        """);

    /// <summary>nestedTypeParser (merge/nested_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape NestedTypeParser = Shape("""
        {
          "type": "object",
          "properties": {
            "listOfLists": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "x-kubernetes-list-type": "set"
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "name"
              ]
            },
            "listOfMaps": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "string"
                    }
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "name"
              ]
            },
            "mapOfLists": {
              "type": "object",
              "additionalProperties": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "x-kubernetes-list-type": "set"
              }
            },
            "mapOfMaps": {
              "type": "object",
              "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                  "type": "string"
                }
              }
            },
            "mapOfMapsRecursive": {
              "type": "object",
              "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                  "type": "object",
                  "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "object",
                      "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "object",
                          "x-kubernetes-preserve-unknown-fields": true
                        }
                      }
                    }
                  }
                }
              }
            },
            "struct": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "value": {
                  "type": "number"
                }
              }
            }
          }
        }
        """);

    /// <summary>preserveUnknownParser (merge/preserve_unknown_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape PreserveUnknownParser = Shape("""
        {
          "type": "object",
          "properties": {
            "num": {
              "type": "number"
            }
          },
          "x-kubernetes-preserve-unknown-fields": true
        }
        """);

    /// <summary>portListParser (merge/default_keys_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape PortListParser = Shape("""
        {
          "type": "object",
          "properties": {
            "containerPorts": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "port": {
                    "type": "number"
                  },
                  "protocol": {
                    "type": "string",
                    "default": "TCP"
                  },
                  "name": {
                    "type": "string"
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "port",
                "protocol"
              ]
            }
          }
        }
        """);

    /// <summary>bookParser (merge/default_keys_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape BookParser = Shape("""
        {
          "type": "object",
          "properties": {
            "book": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "chapter": {
                    "type": "number",
                    "default": 1
                  },
                  "section": {
                    "type": "string",
                    "default": "A"
                  },
                  "sentences": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "page": {
                          "type": "number",
                          "default": 2.0
                        },
                        "line": {
                          "type": "number",
                          "default": 3
                        },
                        "text": {
                          "type": "string"
                        }
                      }
                    },
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": [
                      "page",
                      "line"
                    ]
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "chapter",
                "section"
              ]
            }
          }
        }
        """);

    /// <summary>duplicatesParser (merge/duplicates_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape DuplicatesParser = Shape("""
        {
          "type": "object",
          "properties": {
            "list": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value1": {
                    "type": "number"
                  },
                  "value2": {
                    "type": "number"
                  }
                }
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": [
                "name"
              ]
            },
            "unrelated": {
              "type": "number"
            },
            "set": {
              "type": "array",
              "items": {
                "type": "number"
              },
              "x-kubernetes-list-type": "set"
            }
          }
        }
        """);

    /// <summary>atomicMapParser (merge/multiple_appliers_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape AtomicMapParser = Shape("""
        {
          "type": "object",
          "properties": {
            "atomicMap": {
              "type": "object",
              "properties": {
                "field1": {
                  "type": "string"
                },
                "field2": {
                  "type": "string"
                }
              },
              "x-kubernetes-map-type": "atomic"
            }
          }
        }
        """);

    /// <summary>DeducedParser (internal/fixture/state.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape DeducedParser = Shape("""
        {
          "type": "object",
          "x-kubernetes-preserve-unknown-fields": true
        }
        """);

    /// <summary>overrideStructTypeParser (merge/field_level_overrides_test.go): a field's own elementRelationship
    /// overrides that of the type it names, so each field carries its own list or map type.</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape OverrideStructTypeParser = Shape("""
        {
          "type": "object",
          "properties": {
            "associativeListReference": {
              "type": "array",
              "items": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value": {
                    "type": "number"
                  }
                },
                "x-kubernetes-map-type": "atomic"
              }
            },
            "separableInlineList": {
              "type": "array",
              "items": {
                "type": "number"
              },
              "x-kubernetes-list-type": "set"
            },
            "separableMapReference": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "value": {
                  "type": "number"
                }
              }
            },
            "atomicMapReference": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "value": {
                  "type": "number"
                }
              },
              "x-kubernetes-map-type": "atomic"
            }
          }
        }
        """);

    /// <summary>structParser (merge/schema_change_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape StructParser = Shape("""
        {
          "type": "object",
          "properties": {
            "struct": {
              "type": "object",
              "properties": {
                "numeric": {
                  "type": "number"
                },
                "string": {
                  "type": "string"
                }
              }
            }
          }
        }
        """);

    /// <summary>structWithAtomicParser (merge/schema_change_test.go).</summary>
    public static readonly Portcullis.Server.Registry.ManagedFields.TypeShape StructWithAtomicParser = Shape("""
        {
          "type": "object",
          "properties": {
            "struct": {
              "type": "object",
              "properties": {
                "numeric": {
                  "type": "number"
                },
                "string": {
                  "type": "string"
                }
              },
              "x-kubernetes-map-type": "atomic"
            }
          }
        }
        """);
}
