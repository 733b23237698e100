"""A NATS peer written with nats-py and msgpack (from PyPI), for the interoperability tests of
concurrence-nats: it calls a Rust tasklet, or serves calls from one.

    python3 peer.py call ADDRESS SUBJECT    calls the tasklet, prints one line per answer
    python3 peer.py serve ADDRESS SUBJECT   answers MSG_UPPER and MSG_SWAP, prints "ready" first

A message is the MessagePack array of its name and its fields; an answer the MessagePack of the
reply; a refusal an empty answer with a Concurrence-Error header.
"""

import asyncio
import sys

import msgpack
import nats


async def call(address, subject):
    nc = await nats.connect(f"nats://{address}")
    try:
        answer = await nc.request(subject, msgpack.packb(["MSG_SUM", 40, 2]), timeout=10)
        print("sum", msgpack.unpackb(answer.data))
        person = {"name": "Ada", "born": 1815}
        answer = await nc.request(subject, msgpack.packb(["MSG_GREET", person]), timeout=10)
        print("greet", msgpack.unpackb(answer.data))
        answer = await nc.request(subject, msgpack.packb(["MSG_OLDER", person, 10]), timeout=10)
        older = msgpack.unpackb(answer.data)
        print("older", older["name"], older["born"])
        # A sent message, published, then its effect read back by a call.
        await nc.publish(subject, msgpack.packb(["MSG_NOTE", "from python"]))
        answer = await nc.request(subject, msgpack.packb(["MSG_NOTES"]), timeout=10)
        print("notes", msgpack.unpackb(answer.data))
        # Fields of the wrong type: refused, saying which message.
        answer = await nc.request(subject, msgpack.packb(["MSG_SUM", "forty", 2]), timeout=10)
        print("refused", (answer.headers or {}).get("Concurrence-Error", "no refusal"))
    finally:
        await nc.close()


async def serve(address, subject):
    nc = await nats.connect(f"nats://{address}")

    async def answer(msg):
        request = msgpack.unpackb(msg.data)
        name, fields = request[0], request[1:]
        if name == "MSG_UPPER":
            await msg.respond(msgpack.packb(fields[0].upper()))
        elif name == "MSG_SWAP":
            point = fields[0]
            await msg.respond(msgpack.packb({"x": point["y"], "y": point["x"]}))
        else:
            await nc.publish(msg.reply, b"", headers={"Concurrence-Error": f"python has no {name}"})

    await nc.subscribe(subject, cb=answer)
    await nc.flush()
    print("ready", flush=True)
    # Bounded: the test kills it long before.
    await asyncio.sleep(120)
    await nc.close()


if __name__ == "__main__":
    mode, address, subject = sys.argv[1:4]
    asyncio.run({"call": call, "serve": serve}[mode](address, subject))
