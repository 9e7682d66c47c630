package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Availability is whether a person takes new work now.
type Availability string

// The statuses. Automatic methods give new work only to the available.
const (
	Available Availability = "available"
	Away      Availability = "away"
	Offline   Availability = "offline"
)

// Availabilities are the statuses, in the order a listing shows them.
var Availabilities = []Availability{Available, Away, Offline}

// ParseAvailability reads a status, naming the valid ones when it is not one.
func ParseAvailability(s string) (Availability, error) {
	a := Availability(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Availabilities, a) {
		return a, nil
	}
	names := []string{string(Available), string(Away), string(Offline)}
	return "", fmt.Errorf("unknown status %q: want available, away or offline%s", s, Suggest(string(a), names))
}

// Is reports whether the status is a; "" reads as available.
func (s Availability) Is(a Availability) bool {
	if s == "" {
		s = Available
	}
	return s == a
}

// Capacity is how many stages a person may hold open at once: Total over every
// stage and PerStage for one; 0 (or absent) is no limit. Open means assigned and
// not completed.
type Capacity struct {
	Total    int           `json:"total,omitempty"`
	PerStage map[Stage]int `json:"perStage,omitempty"`
}

// IsZero reports whether the capacity sets no limit.
func (c Capacity) IsZero() bool { return c.Total == 0 && len(c.PerStage) == 0 }

// Limits reports whether the capacity limits stage at all.
func (c Capacity) Limits(stage Stage) bool { return c.Total > 0 || c.PerStage[stage] > 0 }

// String is the capacity as a directory file writes it: "total 20, review 5".
func (c Capacity) String() string {
	var parts []string
	if c.Total > 0 {
		parts = append(parts, fmt.Sprintf("total %d", c.Total))
	}
	for _, s := range AssignableStages {
		if n := c.PerStage[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(parts) == 0 {
		return "no limit"
	}
	return strings.Join(parts, ", ")
}

// Open is how many stages a person holds open: in all, and at one stage.
type Open struct {
	Total int `json:"total"`
	Stage int `json:"stage"`
}

// Workload is one person's standing for new work at a stage: their status, limits
// and open stages now.
type Workload struct {
	Status   Availability
	Capacity Capacity
	Open     Open
	// Delegate takes new work meant for the person during an absence.
	Delegate string
}

// WorkloadOf is a user's workload at a stage given their open stages.
func WorkloadOf(u User, open Open) Workload {
	return Workload{Status: u.Status, Capacity: u.Capacity, Open: open, Delegate: u.Delegate}
}

// MaxDelegation bounds a chain of delegates (ann's delegate is away and
// delegates to bob, …): past it the work is treated as nobody's.
const MaxDelegation = 5

// Delegation is how new work meant for someone away reached their delegate.
type Delegation struct {
	// To takes the work; "" when the chain found nobody, and Why says why.
	To    string
	Chain []string // from the person away to To (or as far as it went)
	Why   string
}

// FollowDelegates follows an away person's delegates, from first (their own
// delegate), to the first who is eligible and may take new work now. look
// answers one person: whether they meet the stage's requirement and their
// workload. A chain that comes back on itself, or passes MaxDelegation, stops
// there and says so.
func FollowDelegates(from, first string, stage Stage, look func(id string) (eligible bool, w Workload, err error)) (Delegation, error) {
	d := Delegation{Chain: []string{from}}
	for next := first; next != ""; {
		if slices.Contains(d.Chain, next) {
			d.Chain = append(d.Chain, next)
			d.Why = "delegate chain " + strings.Join(d.Chain, " → ") + " loops"
			return d, nil
		}
		d.Chain = append(d.Chain, next)
		if len(d.Chain) > MaxDelegation+1 {
			d.Why = fmt.Sprintf("delegate chain %s is longer than %d", strings.Join(d.Chain, " → "), MaxDelegation)
			return d, nil
		}
		eligible, w, err := look(next)
		if err != nil {
			return d, err
		}
		switch why := w.Refuse(stage); {
		case !eligible:
			d.Why = "delegate " + next + " is not eligible"
			return d, nil
		case why == "":
			d.To = next
			return d, nil
		case w.Away() != "" && w.Delegate != "":
			next = w.Delegate
		default:
			d.Why = "delegate " + next + " is " + why
			return d, nil
		}
	}
	return d, nil
}

// String is the delegation as a reason says it.
func (d Delegation) String() string {
	if d.To == "" {
		return d.Why
	}
	return "delegated " + strings.Join(d.Chain, " → ")
}

// Away says why the person is not available, or "" when they are.
func (w Workload) Away() string {
	switch {
	case w.Status.Is(Available):
		return ""
	case w.Status.Is(Offline):
		return "offline"
	}
	return "away"
}

// Full says which limit one more open stage at stage would break, or "".
func (w Workload) Full(stage Stage) string {
	if n := w.Capacity.PerStage[stage]; n > 0 && w.Open.Stage >= n {
		return fmt.Sprintf("at capacity: %d of %d open %s stages", w.Open.Stage, n, stage)
	}
	if n := w.Capacity.Total; n > 0 && w.Open.Total >= n {
		return fmt.Sprintf("at capacity: %d of %d open stages", w.Open.Total, n)
	}
	return ""
}

// Refuse says why an automatic method may not give the person new work at
// stage now (away or offline, or a limit reached), or "" when it may. This is
// the one place those reasons are worded; the store's SQL applies the same rule.
func (w Workload) Refuse(stage Stage) string {
	if why := w.Away(); why != "" {
		return why
	}
	return w.Full(stage)
}

// Spare is how many more stages the person may take at stage before a limit,
// and whether any limit applies.
func (w Workload) Spare(stage Stage) (int, bool) {
	spare, limited := 0, false
	if n := w.Capacity.PerStage[stage]; n > 0 {
		spare, limited = n-w.Open.Stage, true
	}
	if n := w.Capacity.Total; n > 0 && (!limited || n-w.Open.Total < spare) {
		spare, limited = n-w.Open.Total, true
	}
	return max(spare, 0), limited
}

// PassedOver is someone an automatic method skipped, and why.
type PassedOver struct {
	UserID string `json:"userId"`
	Why    string `json:"why"`
}

// PassedOverList words who was passed over for a reason: "ann (away), bob (at
// capacity: 5 of 5 open review stages)", with "… (N in all)" past the list.
func PassedOverList(p []PassedOver, total int) string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = x.UserID + " (" + x.Why + ")"
	}
	s := strings.Join(parts, ", ")
	if total > len(p) {
		s += fmt.Sprintf(", … (%d in all)", total)
	}
	return s
}

// WhenNobodyAvailable is what a stage does when everyone eligible is away:
// leave it in its queue (the default), or assign the next eligible person in turn
// anyway, saying so. Limits hold either way.
type WhenNobodyAvailable string

// The choices.
const (
	NobodyAvailableQueue  WhenNobodyAvailable = "queue"
	NobodyAvailableAssign WhenNobodyAvailable = "assign"
)

// ManualRefusal says whether a person's assignment (assign, reassign, claim) of
// stage to someone with workload w may be recorded: a limit reached refuses it
// unless override is set; being away or offline only warns. It returns the
// refusal (nil when allowed) and the warning to record.
func ManualRefusal(actor, target string, stage Stage, claimID string, w Workload, override bool) (*Refusal, string) {
	var warn []string
	if why := w.Away(); why != "" {
		warn = append(warn, fmt.Sprintf("%s is %s", target, why))
	}
	if full := w.Full(stage); full != "" {
		if !override {
			return refuse(RefusedConflict, "%q may not give %s of claim %s to %q: %s is %s; set override to assign past the limit",
				actor, stage, claimID, target, target, full), ""
		}
		warn = append(warn, fmt.Sprintf("past %s's limit by override (%s)", target, full))
	}
	return nil, strings.Join(warn, "; ")
}

// FourEyes are the people four eyes keeps from stage of a claim, each with why:
// the assignee and the completer of each stage the stage's excludeActorsOf names.
func (p *Policy) FourEyes(stage Stage, steps map[Stage]StepOutput) map[string]string {
	var out map[string]string
	for _, earlier := range p.Stages[stage].ExcludeActorsOf {
		st := steps[earlier]
		for _, id := range []string{st.Assignee, st.CompletedBy} {
			if id == "" {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			if _, ok := out[id]; !ok {
				out[id] = fmt.Sprintf("four eyes: acted on %s of this claim", earlier)
			}
		}
	}
	return out
}

// FourEyesIDs are the people four eyes keeps from a stage, sorted: what a
// decision carries for the workflow to hand to every later assignment.
func FourEyesIDs(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// RefuseFourEyes refuses giving stage of a claim to id when four eyes keeps
// them from it (fourEyes is what the stage's decision recorded, of the stages
// its excludeActorsOf names).
func RefuseFourEyes(id string, stage Stage, claimID string, fourEyes []string, of []Stage) *Refusal {
	return refuseFourEyes(id, "take", stage, claimID, fourEyes, of)
}

// RefuseFourEyesCompletion refuses completing the stage to one of fourEyes.
func RefuseFourEyesCompletion(id string, stage Stage, claimID string, fourEyes []string, of []Stage) *Refusal {
	return refuseFourEyes(id, "complete", stage, claimID, fourEyes, of)
}

func refuseFourEyes(id, verb string, stage Stage, claimID string, fourEyes []string, of []Stage) *Refusal {
	if !slices.Contains(fourEyes, id) {
		return nil
	}
	if len(of) == 0 { // decided before decisions named the stages
		return refuse(RefusedForbidden, "%q may not %s %s of claim %s: four eyes: they acted on an earlier stage of it that %s excludes",
			id, verb, stage, claimID, stage)
	}
	names := make([]string, len(of))
	for i, s := range of {
		names[i] = string(s)
	}
	return refuse(RefusedForbidden, "%q may not %s %s of claim %s: four eyes: they took or completed its %s, and %s excludes whoever did (excludeActorsOf)",
		id, verb, stage, claimID, strings.Join(names, " or "), stage)
}
