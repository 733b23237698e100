// Message payloads are positional: `MSG_X { field: T }` is rejected, write `MSG_X(T)`.
use concurrence::message;

message!(MSG_POINT { x: i32, y: i32 });

fn main() {}
