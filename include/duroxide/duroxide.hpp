// Everything a plugin author needs, in one include: orchestration and activity contexts,
// registries, retry policies, semantic versions, the typed layer and the plugin entry point.
#pragma once

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/plugin.hpp"
#include "duroxide/registry.hpp"
#include "duroxide/retry_policy.hpp"
#include "duroxide/semver.hpp"
#include "duroxide/typed.hpp"
#include "duroxide/version.hpp"
