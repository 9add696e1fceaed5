package sdk

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Params holds hyperparameters by name, values in text form.
type Params map[string]string

// ParamKind is the type of a hyperparameter.
type ParamKind uint8

// The kinds of hyperparameter.
const (
	ParamInt ParamKind = iota + 1
	ParamFloat
	ParamString
	ParamBool
)

// String returns "int", "float", "string" or "bool".
func (k ParamKind) String() string {
	switch k {
	case ParamInt:
		return "int"
	case ParamFloat:
		return "float"
	case ParamString:
		return "string"
	case ParamBool:
		return "bool"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParamSpec declares one hyperparameter, so that Train can check it and a
// tuner can search it.
type ParamSpec struct {
	// Name is the key in Params.
	Name string
	// Kind is the value's type.
	Kind ParamKind
	// Min and Max bound ParamInt and ParamFloat values, inclusive.
	Min, Max float64
	// Default is the value used when Params has none, in text form.
	Default string
	// LogScale asks a tuner to search the range on a log scale.
	LogScale bool
	// Doc says what the parameter does, in a line.
	Doc string
}

// check reports whether v is a valid value of s.
func (s ParamSpec) check(v string) error {
	switch s.Kind {
	case ParamInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: param %s=%q: not an integer", ErrBadInput, s.Name, v)
		}
		if f := float64(n); f < s.Min || f > s.Max {
			return fmt.Errorf("%w: param %s=%d out of range [%g,%g]", ErrBadInput, s.Name, n, s.Min, s.Max)
		}
	case ParamFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) {
			return fmt.Errorf("%w: param %s=%q: not a number", ErrBadInput, s.Name, v)
		}
		if f < s.Min || f > s.Max {
			return fmt.Errorf("%w: param %s=%g out of range [%g,%g]", ErrBadInput, s.Name, f, s.Min, s.Max)
		}
	case ParamBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%w: param %s=%q: not a bool", ErrBadInput, s.Name, v)
		}
	case ParamString:
	default:
		return fmt.Errorf("param %s: unknown kind %d", s.Name, s.Kind)
	}
	return nil
}

// ValidateParams checks p against specs: every key is declared and every
// value parses and lies in range. Errors wrap ErrBadInput.
func ValidateParams(specs []ParamSpec, p Params) error {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same error every time
	for _, k := range keys {
		i := slices.IndexFunc(specs, func(s ParamSpec) bool { return s.Name == k })
		if i < 0 {
			return fmt.Errorf("%w: unknown param %q", ErrBadInput, k)
		}
		if err := specs[i].check(p[k]); err != nil {
			return err
		}
	}
	return nil
}

// WithDefaults returns p completed with the declared default of every
// parameter p leaves out. It does not modify p.
func WithDefaults(specs []ParamSpec, p Params) Params {
	out := make(Params, len(specs))
	for _, s := range specs {
		out[s.Name] = s.Default
	}
	for k, v := range p {
		out[k] = v
	}
	return out
}

// Int returns the integer value of key, or def when p has none.
func (p Params) Int(key string, def int) (int, error) {
	v, ok := p[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: param %s=%q: not an integer", ErrBadInput, key, v)
	}
	return n, nil
}

// Float returns the float value of key, or def when p has none.
func (p Params) Float(key string, def float64) (float64, error) {
	v, ok := p[key]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: param %s=%q: not a number", ErrBadInput, key, v)
	}
	return f, nil
}
