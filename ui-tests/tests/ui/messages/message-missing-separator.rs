// Messages in one invocation are separated by `,` (or `;`).
use concurrence::message;

message!(MSG_PING MSG_PONG);

fn main() {}
