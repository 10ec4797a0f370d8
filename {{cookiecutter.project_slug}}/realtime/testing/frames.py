"""Reading frames from a WebsocketCommunicator in consumer tests."""


async def next_frame(communicator, frame_type: str, within: int = 20) -> dict:
    """The next frame of `frame_type` among the next `within` frames, skipping others."""
    for _ in range(within):
        frame = await communicator.receive_json_from(timeout=2)
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def drain(communicator, seconds: float = 0.5) -> list[dict]:
    """Every frame that arrives until none has for `seconds`."""
    frames = []
    while not await communicator.receive_nothing(timeout=seconds):
        frames.append(await communicator.receive_json_from())
    return frames
