package yamlfile

import (
	"fmt"
	"net/mail"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

// LoadDirectory reads and parses a directory file.
func LoadDirectory(path string) (*policy.Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read directory file: %w", err)
	}
	return ParseDirectory(path, data)
}

// ParseDirectory parses a directory document:
//
//	users:
//	  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor,
//	     active: true, permissions: [MakeClaimDecisions]}
//	teams:
//	  - {id: assessors, name: Assessors, members: [ann]}
//
// Every problem is reported with its file, line and row; nothing is returned unless
// the whole file is valid, so a load is all or nothing.
func ParseDirectory(file string, data []byte) (*policy.Directory, error) {
	doc, w, err := parseDocument(file, data, "empty directory file: want a mapping with users and teams")
	if err != nil {
		return nil, err
	}
	d := &policy.Directory{File: file}
	w.mapping(doc, "", map[string]func(*yaml.Node, string){
		"users": func(n *yaml.Node, f string) {
			w.rows(n, f, func(row *yaml.Node, rf string) { d.Users = append(d.Users, w.user(row, rf)) })
		},
		"teams": func(n *yaml.Node, f string) {
			w.rows(n, f, func(row *yaml.Node, rf string) { d.Teams = append(d.Teams, w.team(row, rf)) })
		},
	})
	w.checkDirectory(d)
	if err := problems(w.errs); err != nil {
		return nil, err
	}
	return d, nil
}

func (w *walker) rows(n *yaml.Node, field string, each func(*yaml.Node, string)) {
	if !w.isSequence(n, field) {
		return
	}
	for i, row := range n.Content {
		each(row, fmt.Sprintf("%s[%d]", field, i))
	}
}

func (w *walker) user(n *yaml.Node, field string) policy.DirectoryUser {
	u := policy.DirectoryUser{User: policy.User{Active: true, EmailNotifications: true, Permissions: []string{}}, Line: n.Line}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":    func(v *yaml.Node, f string) { u.ID = w.ident(v, f) },
		"name":  func(v *yaml.Node, f string) { u.Name = w.str(v, f) },
		"email": func(v *yaml.Node, f string) { u.Email = w.email(v, f) },
		"role":  func(v *yaml.Node, f string) { u.Role = w.str(v, f) },
		"tags":  func(v *yaml.Node, f string) { u.Tags = w.identList(v, f) },
		"credentials": func(v *yaml.Node, f string) {
			for _, c := range w.identList(v, f) {
				u.Credentials = append(u.Credentials, strings.ToUpper(c))
			}
		},
		"ticketPriority": func(v *yaml.Node, f string) {
			n, err := strconv.Atoi(w.str(v, f))
			if err != nil || n < 1 {
				w.fail(v, f, fmt.Sprintf("want a whole number of at least 1, got %q", v.Value))
				return
			}
			u.TicketPriority = n
		},
		"active":             func(v *yaml.Node, f string) { u.Active = w.boolean(v, f) },
		"emailNotifications": func(v *yaml.Node, f string) { u.EmailNotifications = w.boolean(v, f) },
		"status": func(v *yaml.Node, f string) {
			a, err := policy.ParseAvailability(w.str(v, f))
			if err != nil {
				w.fail(v, f, err.Error())
				return
			}
			u.Status = a
		},
		"capacity": func(v *yaml.Node, f string) { u.Capacity = w.capacity(v, f) },
		"permissions": func(v *yaml.Node, f string) {
			if !w.isSequence(v, f) {
				return
			}
			for i, item := range v.Content {
				if perm, ok := w.permission(item, fmt.Sprintf("%s[%d]", f, i)); ok {
					u.Permissions = append(u.Permissions, perm)
				}
			}
		},
	})
	w.required(n, field, map[string]string{"id": u.ID, "name": u.Name, "email": u.Email})
	return u
}

// capacity reads {total: 20, review: 5}: whole numbers of at least 1, keyed by
// total or an assignable stage.
func (w *walker) capacity(n *yaml.Node, field string) policy.Capacity {
	var c policy.Capacity
	limit := func(v *yaml.Node, f string) int {
		n, err := strconv.Atoi(w.str(v, f))
		if err != nil || n < 1 {
			w.fail(v, f, fmt.Sprintf("want a whole number of at least 1, got %q", v.Value))
			return 0
		}
		return n
	}
	keys := map[string]func(*yaml.Node, string){"total": func(v *yaml.Node, f string) { c.Total = limit(v, f) }}
	for _, s := range policy.AssignableStages {
		keys[string(s)] = func(v *yaml.Node, f string) {
			if n := limit(v, f); n > 0 {
				if c.PerStage == nil {
					c.PerStage = map[policy.Stage]int{}
				}
				c.PerStage[s] = n
			}
		}
	}
	w.mapping(n, field, keys)
	return c
}

func (w *walker) identList(n *yaml.Node, field string) []string {
	out := []string{}
	if !w.isSequence(n, field) {
		return out
	}
	for i, item := range n.Content {
		if s := w.ident(item, fmt.Sprintf("%s[%d]", field, i)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (w *walker) team(n *yaml.Node, field string) policy.DirectoryTeam {
	t := policy.DirectoryTeam{Team: policy.Team{Members: []string{}}, Line: n.Line}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":   func(v *yaml.Node, f string) { t.ID = w.ident(v, f) },
		"name": func(v *yaml.Node, f string) { t.Name = w.str(v, f) },
		"members": func(v *yaml.Node, f string) {
			if !w.isSequence(v, f) {
				return
			}
			for i, item := range v.Content {
				if id := w.ident(item, fmt.Sprintf("%s[%d]", f, i)); id != "" {
					t.Members = append(t.Members, id)
					t.MemberLines = append(t.MemberLines, item.Line)
				}
			}
		},
	})
	w.required(n, field, map[string]string{"id": t.ID, "name": t.Name})
	return t
}

// required reports required fields that are missing or empty, in a stable order.
func (w *walker) required(n *yaml.Node, field string, values map[string]string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for _, k := range []string{"id", "name", "email"} {
		if v, ok := values[k]; ok && v == "" {
			if !w.hasKey(n, k) {
				w.fail(n, field+"."+k, "required")
			} else {
				w.notEmpty(n, field+"."+k, k)
			}
		}
	}
}

// notEmpty reports a key given as an empty string (id: ""), which would
// otherwise pass for a value: a row with an empty id or name is never meant.
// Other bad values were reported when they were read.
func (w *walker) notEmpty(n *yaml.Node, field, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; n.Content[i].Value == key && v.Kind == yaml.ScalarNode && v.Tag != "!!null" && v.Value == "" {
			w.fail(v, field, "may not be empty")
			return
		}
	}
}

func (w *walker) hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (w *walker) ident(n *yaml.Node, field string) string {
	s := w.str(n, field)
	if s == "" {
		return s
	}
	if err := policy.CheckIdentifier(s); err != nil {
		w.fail(n, field, err.Error())
		return ""
	}
	return s
}

func (w *walker) email(n *yaml.Node, field string) string {
	s := w.str(n, field)
	if s == "" {
		return ""
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		w.fail(n, field, fmt.Sprintf("invalid email %q", s))
		return ""
	}
	return s
}

// checkDirectory catches duplicates within the file; references to users outside
// the file are checked against the database when it loads.
func (w *walker) checkDirectory(d *policy.Directory) {
	users := map[string]int{}
	for i, u := range d.Users {
		if u.ID == "" {
			continue
		}
		if first, dup := users[u.ID]; dup {
			w.errs = append(w.errs, &policy.FieldError{File: w.file, Line: u.Line, Field: fmt.Sprintf("users[%d].id", i),
				Msg: fmt.Sprintf("user %q already defined at line %d", u.ID, first)})
		}
		users[u.ID] = u.Line
	}
	teams := map[string]int{}
	for i, t := range d.Teams {
		if first, dup := teams[t.ID]; dup && t.ID != "" {
			w.errs = append(w.errs, &policy.FieldError{File: w.file, Line: t.Line, Field: fmt.Sprintf("teams[%d].id", i),
				Msg: fmt.Sprintf("team %q already defined at line %d", t.ID, first)})
		}
		teams[t.ID] = t.Line
		seen := map[string]bool{}
		for j, m := range t.Members {
			if seen[m] {
				w.errs = append(w.errs, &policy.FieldError{File: w.file, Line: t.MemberLines[j], Field: fmt.Sprintf("teams[%d].members[%d]", i, j),
					Msg: fmt.Sprintf("user %q listed twice", m)})
			}
			seen[m] = true
		}
	}
}
