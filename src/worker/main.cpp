// duroxide-worker: a remote activity worker (docs/operations.md, "Remote activity workers").
// Loads plugin .so files, then runs --concurrency slots (worker_slot.hpp), each on its own
// thread and connection, until SIGTERM or SIGINT (the activities under way finish first).
#include "worker/options.hpp"
#include "worker/plugins.hpp"
#include "worker/worker_slot.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) {
    stop_requested = true;
}

} // namespace

int main(int argc, char** argv) {
    using namespace duroxide::worker;
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const OptionsError& e) {
        std::cerr << "duroxide-worker: " << e.what() << "\n";
        return 2;
    }
    if (options.help) {
        std::cout << usage();
        return 0;
    }
    duroxide::ActivityRegistry activities;
    try {
        load_plugins(options.plugins, activities);
    } catch (const std::exception& e) {
        std::cerr << "duroxide-worker: " << e.what() << "\n";
        return 1;
    }
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    std::signal(SIGPIPE, SIG_IGN);
    std::cerr << "duroxide-worker " << options.worker_id << ": " << activities.names().size()
              << " activities, " << options.concurrency << " slots, " << options.tags << std::endl;
    std::vector<std::thread> slots;
    for (int i = 0; i < options.concurrency; ++i) {
        slots.emplace_back(
            [&options, &activities, i] { run_slot(options, activities, i, stop_requested); });
    }
    for (auto& slot : slots) {
        slot.join();
    }
    return 0;
}
