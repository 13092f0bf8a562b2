// structured-merge-diff v4.6.0 merge tests not ported, one line per case:
// skipped: TestExtractApply/* (15 cases: apply_one_extract_apply_one_own_both, extract_apply_from_beginning,
//   apply_after_extract_remove_fields, apply_one_controller_remove_extract_apply_one,
//   extract_apply_retain_ownership_after_controller_update, extract_apply_share_ownership_after_another_apply,
//   apply_two_cant_delete_object_also_owned_by_extract_apply, extract_apply_empty_structure_{list,remove_list,
//   add_later_list,map,remove_map,add_later_map}, extract_apply_atomic_{list,map}) — the ExtractApply operation needs
//   typed.ExtractItems, which Portcullis's merge does not have (the API server never extracts).
// skipped: TestObsoleteVersions, TestApplyObsoleteVersion — a converter that fails for obsolete versions.
// skipped: BenchmarkOperations (merge/real_test.go) — benchmarks over upstream's testdata schemas, no assertions.
// The cases that convert between API versions are named where they stand, in SmdMergeTests.MultipleAppliers.cs and
// SmdMergeTests.Ignore.cs.
namespace Portcullis.Server.Tests.ManagedFields;
