package generator

// StrategyInfo is what gingen knows of a restart strategy: everything that differs between
// strategies outside their templates comes from this table (the wizard's help, the plan's
// template layers, the restart library constant main.go passes to restart.Run).
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
}

// strategyTable lists the strategies in the order they are offered; the first is the default.
func strategyTable() []StrategyInfo {
	return []StrategyInfo{
		{Name: StrategyFork, Help: "plain VM or bare process; the PID file follows each restart", RunConst: "Fork"},
		{Name: StrategySupervisor, Help: "supervisord, Docker or anything that needs a stable PID", RunConst: "Supervisor", StableMaster: true},
		{Name: StrategySystemd, Help: "socket-activated systemd service", RunConst: "Systemd", StableMaster: true},
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
