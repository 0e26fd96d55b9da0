// The parts of botbuilder-dialogs SpeakSafe's dialogs use, imported from their
// own modules. The package's index also loads every prompt, the adaptive
// runtime pieces and the Recognizers-Text suites (about 40 MB of memory per
// process) that SpeakSafe never uses. Types may still come from
// 'botbuilder-dialogs' (`import type` loads nothing).
export { Dialog, DialogReason, DialogTurnStatus } from 'botbuilder-dialogs/lib/dialog';
export { DialogSet } from 'botbuilder-dialogs/lib/dialogSet';
export { ComponentDialog } from 'botbuilder-dialogs/lib/componentDialog';
