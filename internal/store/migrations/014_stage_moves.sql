-- Why a stage is to be moved off its holder, recorded by the store when that
-- becomes true: the holder was deactivated (move_reason '<id> was
-- deactivated'), or an absence of theirs began ('<id> is away until <end>',
-- move_absence). The redistribute signal is only a nudge: ResolveAssignment
-- moves a stage so marked, with this reason, and refuses any other, so a
-- signal anyone with a Temporal client can send moves no work and puts none
-- of its text in a decision, the timeline or a notification. A stage given to
-- someone else (OpenStageSet) is unmarked.
ALTER TABLE open_stages ADD COLUMN move_reason text, ADD COLUMN move_absence bool NOT NULL DEFAULT false;
