-- The conformance suite's simulated half (ConformanceTests runs every scenario with
-- `heph run` on a real engine too, and compares the T lines per container).
for _, scenario in ipairs({
  "kill", "unhealthy_and_back", "pause", "removal", "stop_and_restart_by_script",
  "up_with_a_failing_service", "restart_gives_up", "dependents_restarted", "engine_restart",
  "recreated", "crash_and_restart_policy", "stop_from_outside", "oom", "ready",
}) do
  test(scenario, function() sim.run(scenario .. ".lua") end)
end
