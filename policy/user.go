package policy

// User is a person in the directory.
type User struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	Role        string   `json:"role"`
	Active      bool     `json:"active"`
	Permissions []string `json:"permissions"`
	// Tags are matched by eligibility's tagsOneOf and tagsAllOf.
	Tags []string `json:"tags,omitempty"`
	// Credentials are the states the user is credentialed in (e.g. CA, NY).
	Credentials []string `json:"credentials,omitempty"`
	// TicketPriority is the user's weight in weighted round robin: the number of
	// assignments they get per round, and higher goes first. 1 when unset.
	TicketPriority int `json:"ticketPriority,omitempty"`
	// EmailNotifications says whether the user gets assignment e-mails (the in-app
	// inbox and Slack are not affected). A directory file defaults it to true.
	EmailNotifications bool `json:"emailNotifications"`
	// Status is whether the user takes new work now; "" reads as available.
	Status Availability `json:"status,omitempty"`
	// Capacity limits how many stages the user holds open at once.
	Capacity Capacity `json:"capacity,omitzero"`
	// Delegate takes their new work while they are away on an absence.
	Delegate string `json:"delegate,omitempty"`
}

// Has reports whether the user holds the permission.
func (u User) Has(perm string) bool {
	for _, p := range u.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the user may reassign any claim.
func (u User) IsAdmin() bool { return u.Active && u.Has(PermAdmin) }

// Team is an ordered group of users; order is the order members were added.
type Team struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Claim is what is being routed. Data carries the claim's attributes (amount,
// customer, …) for product modules and, later, rules.
type Claim struct {
	ID    string            `json:"id"`
	Owner string            `json:"owner,omitempty"`
	Data  map[string]string `json:"data,omitempty"`
}

// Candidate is a user as the assignment-options endpoints present them.
type Candidate struct {
	UserID      string `json:"userId"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	Description string `json:"description"`
}

// CandidateOf presents a user as a candidate for a stage.
func CandidateOf(u User, description string) Candidate {
	return Candidate{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Description: description}
}
