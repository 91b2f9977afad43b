package generator

import (
	"strconv"
	"strings"
)

// StrategyInfo is what gingen knows of a restart strategy: everything that differs between
// strategies outside their templates comes from this table (the wizard's help, the plan's
// template layers and their master-or-not conditionals, the restart library constant main.go
// passes to restart.Run, gingen new's next steps).
type StrategyInfo struct {
	// Name is the --strategy value and the folder of the strategy's templates.
	Name string
	// Help is the one-line "pick it when" of the wizard and of gingen new --help.
	Help string
	// RunConst is the github.com/gingen/gingen/restart constant of the strategy.
	RunConst string
	// StableMaster is true for the strategies whose service manager sees one process for the
	// service's whole life (a master that runs the application in worker processes).
	StableMaster bool
	// Steps are how to run, restart and stop a new project, and Deploys its files under
	// deploy/ with what each is for: gingen new's next steps, as {command, what it does}, with
	// {name} and {port} standing for the project's name and port (StrategyInfo.Expand).
	Steps, Deploys [][2]string
}

// Expand fills in the project's name and port in a row of Steps or Deploys.
func (StrategyInfo) Expand(row [2]string, name string, port int) [2]string {
	r := strings.NewReplacer("{name}", name, "{port}", strconv.Itoa(port))
	return [2]string{r.Replace(row[0]), r.Replace(row[1])}
}

// strategyTable lists the strategies in the order they are offered; the first is the default.
func strategyTable() []StrategyInfo {
	return []StrategyInfo{
		{
			Name: StrategyFork, Help: "plain VM or bare process; the PID file follows each restart", RunConst: "Fork",
			Steps: [][2]string{
				{"make build && ./{name}", "serve on :{port} (GET /healthz); writes {name}.pid"},
				{"make reload", "rebuild, then SIGHUP: zero-downtime restart onto the new binary"},
				{"make stop", "SIGTERM: finish in-flight requests, then exit"},
			},
			Deploys: [][2]string{{"{name}.service", "systemd unit: systemctl reload/stop {name}"}},
		},
		{
			Name: StrategySupervisor, Help: "supervisord, Docker or anything that needs a stable PID", RunConst: "Supervisor", StableMaster: true,
			Steps: [][2]string{
				{"make build && ./{name}", "master + worker on :{port} (GET /healthz); the master's pid stays"},
				{"make reload", "rebuild, then SIGHUP to the master: a new worker takes over"},
				{"make stop", "SIGTERM to the master: the worker drains, both exit"},
			},
			Deploys: [][2]string{
				{"supervisord.conf", "supervisord: supervisorctl signal HUP {name}"},
				{"{name}.service", "systemd Type=simple: systemctl reload {name}"},
			},
		},
		{
			Name: StrategySystemd, Help: "socket-activated systemd service", RunConst: "Systemd", StableMaster: true,
			Steps: [][2]string{
				{"make build && ./{name}", "without systemd it listens on :{port} itself"},
				{"kill -HUP <pid>", "zero-downtime restart (the pid is in the log and in /healthz)"},
				{"kill -TERM <pid>", "finish in-flight requests, then exit"},
			},
			Deploys: [][2]string{
				{"{name}.socket", "the socket systemd holds across restarts"},
				{"{name}.service", "systemctl reload {name} restarts; stop both units to stop"},
			},
		},
	}
}

// Strategy returns what gingen knows of the strategy named name, and whether there is one.
func Strategy(name string) (StrategyInfo, bool) {
	for _, s := range strategyTable() {
		if s.Name == name {
			return s, true
		}
	}
	return StrategyInfo{}, false
}

// Strategies lists the restart strategies in the order they are offered.
func Strategies() []string {
	table := strategyTable()
	names := make([]string, len(table))
	for i, s := range table {
		names[i] = s.Name
	}
	return names
}
