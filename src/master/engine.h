// The master engine: command intake, one runner per workflow instance, and the group-commit
// loop that orders every effect after its state is durable (DESIGN.md §3).
//
// Threading: one engine thread owns every runner; other threads (API, worker, timers) only
// Post() closures to it. Each loop turn drains the posted work, commits every state change of
// that turn in one transaction (group commit), and only then performs the turn's effects
// (dispatches and kills), so nothing is ever dispatched that is not durable. No polling on
// the hot path: the loop sleeps until work is posted (a 1 s fallback scan of the command
// table is the only timer-driven wake-up).
//
// Fencing: every write carries the instance's owner_epoch; a group whose fence fails means
// another master owns the instance, and the runner is dropped at once.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "alert/alert_content.h"
#include "common/clock.h"
#include "dag/dag.h"
#include "rpc/interfaces.h"
#include "storage/stores.h"

namespace dsched {

// The wait before a group commit: `configured` when it is zero or more; else 100 us for each
// task under way, at most 10 ms. A task's end reaches a cluster master over the network a few
// events at a time, so a master that commits at once commits about once per event; the more
// tasks are under way, the more ends a short wait collects, and a lone task (a chain) waits
// next to nothing.
int64_t CommitWaitUs(int64_t configured, size_t tasks_under_way);

struct EngineOptions {
  std::string host = "127.0.0.1:5678";
  int64_t epoch = 1;
  int64_t minute_ms = 60000;  // retry intervals, timeouts and delays are in minutes
  // Wait before a group commit, so that the state changes arriving meanwhile join it. Negative:
  // CommitWaitUs's wait, which grows with the tasks under way (cluster mode).
  int64_t commit_delay_us = 0;
  std::string log_base;  // where logic tasks (run by the master) write their logs
  // Cluster mode: whether the master at this address is alive. Start-up recovery then takes
  // over only the instances of masters that are not (standalone: unset, it takes them all).
  std::function<bool(const std::string& host)> master_alive;
  // Cluster mode: whether the worker at this address is alive. A task found running on a dead
  // worker when instances are taken over is failed over instead of re-attached.
  std::function<bool(const std::string& host)> worker_alive;
  // Overload protection: while it returns false the master claims no new command (they wait
  // in the table for it or another master); unset: always take them.
  std::function<bool()> accept_commands;
};

class Engine final : public MasterControl, public TaskEventSink {
 public:
  Engine(EngineOptions opts, Clock& clock, DefinitionStore& defs, InstanceStore& instances);
  ~Engine() override;

  // The worker is wired after construction because it needs the engine as its event sink.
  void SetWorker(WorkerClient* worker) { worker_ = worker; }
  // Task groups: without a store, tasks that name a group run without one. Set before Start().
  void SetTaskGroupStore(TaskGroupStore* task_groups) { task_groups_ = task_groups; }
  // Takes over every unfinished instance (start-up recovery) not owned by a live master, then
  // starts the loop thread.
  Status Start();
  // A master left the registry: take over its unfinished instances (fenced by epoch, so of
  // several masters doing this one wins each instance) and re-attach to their running tasks.
  // A master that took some writes one fault-tolerance alert naming them (AlertServerLost);
  // hearing of the same loss again takes nothing more and writes nothing.
  void TakeOver(const std::string& dead_master);
  // A worker left the registry (its tasks killed themselves when its lease ran out): each
  // active task of ours that ran there, or was dispatched there (`placed_there(task instance
  // id, attempt)`) without being heard of since, ends NEED_FAULT_TOLERANCE and runs again as a
  // new attempt, not counted as a retry. One fault-tolerance alert names the instances of
  // those tasks, in the same commit; a second report of the loss finds no such task and writes
  // nothing.
  void WorkerLost(const std::string& worker,
                  std::function<bool(int64_t task_instance_id, int attempt)> placed_there);
  void Stop();

  // MasterControl
  void WakeCommands() override;
  Status Execute(int64_t workflow_instance_id, ExecuteType type) override;
  Status ForceTaskSuccess(int64_t task_instance_id) override;
  Status ExecuteTask(int64_t workflow_instance_id, const std::vector<int64_t>& start_nodes,
                     TaskDependType mode) override;
  // TaskEventSink
  void OnTaskEvent(const TaskEvent& e) override;

  // Number of instances held in memory (tests check that finished ones are released).
  size_t RunnerCount();
  // Returns once everything posted before the call has been handled, committed and its
  // effects (dispatches, kills) performed. For tests that drive the engine with a FakeClock.
  void Sync();

 private:
  struct Runner;

  void Post(std::function<void()> fn);
  void Loop();
  void IntakeCommands();
  Status HandleCommand(const Command& c);
  std::unique_ptr<Runner> BuildRunner(const WorkflowInstance& wi, Status* error);
  // Takes over (TakeOwnership, fenced) and resumes the unfinished instances `which` selects;
  // returns those it took, as owned now (before they ran on).
  std::vector<alert::FailedOverInstance> Recover(
      const std::function<bool(const WorkflowInstance&)>& which, const char* why);
  // Puts the fault-tolerance alert for the loss of `server` into this turn's batch, in the group
  // of the first affected instance: it commits with that instance's takeover or failover, and
  // only while this master still owns it. Nothing when this master took nothing over.
  void AlertServerLost(const char* server_type, const std::string& server,
                       const std::vector<alert::FailedOverInstance>& affected);
  // The end of `ti`'s current attempt in `state`, as if `host` had reported it.
  TaskEvent FinishEvent(const Runner& r, const TaskInstance& ti, TaskState state,
                        const std::string& host);

  // Runner logic, engine thread only.
  // Submits every node of the run whose predecessors have all passed (start, resume).
  void Evaluate(Runner& r);
  // Same, limited to the successors of a task that just succeeded (the hot path).
  void EvaluateSuccessors(Runner& r, int64_t code);
  void TrySubmit(Runner& r, int64_t code);
  // CONDITIONS / SWITCH: which downstream tasks run (pure over the runner's state).
  std::set<int64_t> ChooseBranches(Runner& r, const TaskInstance& ti);
  void SkipUnchosen(Runner& r, int64_t code, const std::set<int64_t>& chosen);
  void RunLogicTask(Runner& r, TaskInstance& ti);
  // SUB_PROCESS: creates (or finds again) the child instance; its end ends the task.
  void StartSubWorkflow(Runner& r, TaskInstance& ti);
  // RECOVER_SUSPENDED of a parent: resumes the paused or stopped child in place (a
  // RECOVER_SUSPENDED command for it, re-linked to the task row ti).
  void ResumeSubWorkflow(Runner& r, TaskInstance& ti, const WorkflowInstance& child);
  void OnChildFinished(const WorkflowInstance& child);
  Runner* ChildOf(int64_t parent_task_id);
  void AppendMasterLog(Runner& r, TaskInstance& ti, const std::string& line);
  // DEPENDENT: met when every item's workflow (or task) succeeded in each interval of its
  // dateValue; waits (re-checked every checkInterval seconds) while one still runs.
  enum class DependResult { kSuccess, kWaiting, kFailed };
  DependResult EvaluateDependItem(Runner& r, const nlohmann::json& item, std::string* why);
  void CheckDependent(Runner& r, TaskInstance& ti);
  // Ends a task the master runs itself, through the same path as a worker's event.
  void FinishFromMaster(Runner& r, const TaskInstance& ti, TaskState state);
  // The var pools of code's succeeded predecessors, earliest finisher first.
  std::vector<std::vector<Property>> UpstreamVarPools(const Runner& r, int64_t code);
  // Hands an unfinished task back to whoever runs it after a restart or a recover: the worker
  // for process tasks, the master itself for logic and SUB_PROCESS tasks.
  void ResumeTask(Runner& r, TaskInstance& ti);
  bool MaySubmit(const Runner& r) const;
  void Submit(Runner& r, int64_t code, TaskState initial);
  void DispatchTask(Runner& r, TaskInstance& ti);
  void HandleEvent(const TaskEvent& e);
  void OnTaskFailed(Runner& r, TaskInstance& ti);
  void Retry(int64_t wi_id, int64_t code, int64_t ti_id);
  // Supersedes `old` (flag NO) with a new SUBMITTED row and dispatches it after commit.
  void NewAttempt(Runner& r, TaskInstance& old, int retry_times);
  void KillRunning(Runner& r);
  void SetWorkflowState(Runner& r, WorkflowState s);
  // A run with a timeout (minutes on its definition) gets one alert when it passes it, from
  // its start; nothing is stopped (DolphinScheduler only warns).
  void ArmWorkflowTimeout(Runner& r);
  void MaybeFinish(Runner& r);
  void ReleaseAfterCommit(Runner& r);
  // Starts the oldest SERIAL_WAIT instance of a definition when none of it runs.
  void PromoteSerialWaiter(int64_t definition_code);
  // Starts WAIT_TO_RUN instances of a backfill (by trigger code) up to its parallelism.
  void PromoteComplementWaiters(int64_t trigger_code);
  // STOP from any live state: a waiting instance stops at once, a running one kills its tasks.
  void StopInstance(Runner& r);
  void DoExecute(int64_t id, ExecuteType type, Status* out);
  // Force success and execute-task (engine.cc, their own section): engine thread only.
  void DoForceTaskSuccess(int64_t task_instance_id, std::function<void(Status)> done);
  Status DoExecuteTask(int64_t id, const std::vector<int64_t>& start_nodes, TaskDependType mode);
  // HandleCommand's part for EXECUTE_TASK: the instance to reuse and the rows to supersede.
  Status PrepareExecuteTask(const Command& c, int64_t now, WorkflowInstance* wi,
                            int64_t* expected_epoch, std::vector<TaskInstance>* supersede);
  void WriteTask(Runner& r, const TaskInstance& ti);
  TaskDispatch MakeDispatch(Runner& r, const TaskInstance& ti);

  // Task groups (engine.cc, their own section). A task whose definition names a group asks
  // for a slot before it is dispatched; without one it stays SUBMITTED_SUCCESS in the group's
  // queue. Tasks without a group never reach these beyond one integer test.
  // true when ti may be dispatched now (no group, or it holds a slot); else it waits.
  bool TaskGroupAdmit(Runner& r, TaskInstance& ti);
  // Hands free slots of a group to its waiters, in the store's order, dispatching the ones
  // this master runs.
  void TaskGroupServe(int64_t group_id);
  // Every group some task of this master waits in (after a release elsewhere, a force start,
  // a size change or reopening: all reach the master only through the database).
  void TaskGroupServeAll();
  // A task that ended (any final state) gives its slot or its place in the queue back, after
  // the end is durable, and the next waiter is served.
  void TaskGroupOnEnd(const TaskInstance& ti);
  // A pause ends the waiting (not yet started) tasks of the instance as PAUSE.
  void TaskGroupPauseWaiters(Runner& r);
  bool TaskGroupWaiting(const TaskInstance& ti) const;

  const EngineOptions opts_;
  Clock& clock_;
  DefinitionStore& defs_;
  InstanceStore& instances_;
  WorkerClient* worker_ = nullptr;
  TaskGroupStore* task_groups_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> posted_;
  bool commands_pending_ = true;
  bool adopt_own_ = false;  // engine thread only
  bool stop_ = false;
  std::thread thread_;

  // Engine thread only.
  std::map<int64_t, std::unique_ptr<Runner>> runners_;
  WriteBatch batch_;
  std::vector<std::function<void()>> after_commit_;
  std::vector<std::unique_ptr<TaskInstance>> pending_inserts_;  // kept alive until commit
  std::atomic<size_t> runner_count_{0};
  // Task instances with a live queue row of a task group: task id -> where it is and whether
  // it holds a slot (false = waiting).
  struct TaskGroupSlot {
    int64_t workflow_instance_id = 0;
    int64_t group_id = 0;
    bool holding = false;
    bool queued = false;  // its queue row is stored (an Enqueue that failed is tried again)
  };
  std::map<int64_t, TaskGroupSlot> task_group_rows_;
  std::map<int64_t, int64_t> task_group_unreleased_;  // task id -> group: release to retry
};

}  // namespace dsched
