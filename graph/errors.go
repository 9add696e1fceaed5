package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// presentError gives every error an extensions.code and a message that is
// safe to show. Domain errors keep their code; ent validation, not-found and
// constraint errors become BAD_INPUT, NOT_FOUND and CONFLICT; anything else
// is logged and shown as INTERNAL without details.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var cause error
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			cause = ge.Err
		} else {
			cause = err
		}
		if cause == nil {
			// Raised by gqlgen itself: parsing, validation, transport.
			if gerr.Extensions == nil || gerr.Extensions["code"] == nil {
				setCode(gerr, apperr.BadInput)
			}
			if strings.Contains(gerr.Message, "could not be decoded") {
				// gqlgen's text echoes the body and Go types.
				gerr.Message = "the request is not valid JSON (want {\"query\": ..., \"variables\": {...}})"
			}
			return gerr
		}
		code, msg := classify(cause)
		if code == apperr.Internal {
			log.ErrorContext(ctx, "internal error", "path", gerr.Path.String(), "err", cause)
		}
		gerr.Message = msg
		setCode(gerr, code)
		return gerr
	}
}

func setCode(e *gqlerror.Error, code apperr.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(code)
}

func classify(err error) (apperr.Code, string) {
	var ae *apperr.Error
	var ve *ent.ValidationError
	var ce *ent.ConstraintError
	switch {
	case errors.As(err, &ae):
		return ae.Code, ae.Message
	case errors.As(err, &ve):
		return apperr.BadInput, strings.TrimPrefix(ve.Error(), "ent: ")
	case ent.IsNotFound(err):
		return apperr.NotFound, "not found"
	case errors.As(err, &ce):
		s := strings.ToLower(ce.Error())
		switch {
		case strings.Contains(s, "foreign key"):
			return apperr.NotFound, "a referenced entity does not exist"
		case strings.Contains(s, "handle"):
			return apperr.Conflict, "handle is already taken"
		case strings.Contains(s, "name"):
			return apperr.Conflict, "name is already taken"
		}
		return apperr.Conflict, "conflicts with an existing record"
	case err.Error() == "introspection disabled":
		return apperr.Forbidden, "introspection needs an ADMIN key (or the server's development mode)"
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.Unavailable, "request timed out"
	}
	return apperr.Internal, "internal error"
}
