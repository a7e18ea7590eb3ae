// Which workflows a backfill with complementDependentMode=ALL_DEPENDENT also backfills: the
// workflows whose DEPENDENT tasks wait on the backfilled one. Pure: the caller loads the
// definitions (with their tasks) and decides which of the answer it may run.
#pragma once

#include <cstdint>
#include <vector>

#include "model/entities.h"

namespace dsched::api {

// The workflow codes the DEPENDENT tasks of `def` wait on
// (taskParams.dependence.dependTaskList[].dependItemList[].definitionCode), each once, in the
// order they first appear. Malformed dependences name nothing: the definition routes have
// validated what they stored, and an old or imported row must not fail a backfill.
std::vector<int64_t> DependedOnWorkflows(const WorkflowDefinition& def);

// The codes of the definitions in `defs` that depend on `root`; with `all_levels` the ones that
// depend on those too, transitively. Each code once, never `root`, nearest level first and in
// the order of `defs` within a level; cycles end because a workflow is visited once.
std::vector<int64_t> DependentWorkflows(int64_t root, const std::vector<WorkflowDefinition>& defs,
                                        bool all_levels);

}  // namespace dsched::api
