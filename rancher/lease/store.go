package lease

import (
	"context"
	"encoding/json"
)

// Store is what a lease needs from Rancher: the generic objects of one environment
// (project). [HTTPStore] implements it over the Cattle API; a caller that already has a
// Rancher client can adapt that instead.
type Store interface {
	// Create creates a generic object and returns it with its id.
	Create(ctx context.Context, o Object) (Object, error)
	// List returns the objects of kind with key, every page, removed ones excluded.
	List(ctx context.Context, kind, key string) ([]Object, error)
	// Update replaces the object's resourceData and returns the object as the server
	// now has it. Updating a removed object succeeds on Cattle: look at State.
	Update(ctx context.Context, id string, data json.RawMessage) (Object, error)
	// Delete removes the object. An object already removed or gone is not an error.
	Delete(ctx context.Context, id string) error
}

// Object is a Cattle genericObject.
type Object struct {
	ID, Name, Kind, Key string
	// State is "active" for a live object, "removing" or "removed" once deleted.
	State        string
	ResourceData json.RawMessage
}

func (o Object) removed() bool { return o.State == "removing" || o.State == "removed" }
