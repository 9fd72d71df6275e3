"""The live core: the path of one vote, from the phone's message to the fragments pushed back.

Read it top to bottom in this order (backplane.py and messages.py sit one level up, beside db.py: the domain
publishes on the backplane too):

=============  ====================================================================================================
step           where
=============  ====================================================================================================
1 phone sends  routes/participant.py participant_socket -> live/connections.py serve_socket (the socket loop)
               -> routes/participant.py _message
2 validate     live/intake.py respond -> activities/base.py ActivityKind.validate_submission
3 group commit live/writer.py ResponseWriter.submit (returns once committed) -> run -> _commit
3b local fold  live/intake.py respond -> live/room.py Room.fold_now (the participant's next answer builds on this
               one before the backplane brings it back)
4 backplane    live/writer.py _publish -> messages.py Responses, publish -> backplane.py Backplane.publish
5 fold         live/room.py Room._consume -> Room._apply (messages.from_json) -> activities/base.py Tally.fold
               -> Pusher.mark
6 push         live/room.py Pusher.run -> Pusher._flush -> live/fragments.py Views.results
               -> activities/<kind>/templates/<kind>/<audience>.html -> Pusher._send_each
               -> live/connections.py Connection.send (the client's bounded outbox)
ack to phone   routes/participant.py _message -> live/fragments.py Views.participant_status
=============  ====================================================================================================

live/hub.py finds a session's room (and admits a join code); live/room.py is the room, the one object the rest
talks to, with the small classes that do its jobs (Presence, Countdown, AnswerLocks, Pusher); live/sse.py is the
socket's twin for networks that block websockets; live/reactions.py names the reactions. A room gets what it needs
of the running server as RoomDeps, never the Services bag: nothing here imports server.services.
"""
