// The sample plugin's explicit-session orchestrations and activities (sample_sessions.cpp).
#pragma once

#include <duroxide/plugin.hpp>

void register_session_samples(duroxide::PluginRegistrar& r);
