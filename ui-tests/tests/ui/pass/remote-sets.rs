// A remote set of messages whose payloads and replies serde serialises (structs with derives,
// a message without payload, one with a reply only) compiles, in both forms.
use concurrence::{dispatch, message, message_set, tasklet, Payload};
use concurrence_nats::RemoteSet;

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

message!(MSG_MOVE(Point), MSG_STOP, MSG_WHERE -> Point, MSG_SCALE(Point, f64) -> Point);

#[tasklet(receives(MSG_MOVE, MSG_STOP, MSG_WHERE), remote)]
fn turtle() {}

message_set!(
    #[remote]
    pub enum ScalerMsg {
        MSG_SCALE,
        MSG_STOP,
    }
);

fn main() {
    assert_eq!(TurtleMsg::NAMES, ["MSG_MOVE", "MSG_STOP", "MSG_WHERE"]);
    assert_eq!(ScalerMsg::NAMES, ["MSG_SCALE", "MSG_STOP"]);
    let (fields, ()) = MSG_MOVE(Point { x: 1, y: 2 }).into_parts();
    assert_eq!(fields, (Point { x: 1, y: 2 },));
    dispatch(|| {
        Turtle::new().spawn().join().unwrap();
    });
}
