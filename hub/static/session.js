// The hub signs staff out after a while without use. Before it does, this
// shows a warning with "Stay signed in" (WCAG 2.2.1, Timing Adjustable). The
// warning is in the page (hidden); without script, nothing changes.
(function () {
  'use strict';
  var box = document.getElementById('session-warning');
  if (!box) return;
  var idleMs = Number(box.getAttribute('data-idle-seconds')) * 1000;
  var warnMs = Number(box.getAttribute('data-warn-seconds')) * 1000;
  if (!(idleMs > 0) || !(warnMs > 0)) return;
  var form = box.querySelector('form');
  var button = box.querySelector('button');
  var timer = null;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(warn, Math.max(0, idleMs - warnMs));
  }

  function warn() {
    box.hidden = false;
    if (button) button.focus();
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString(),
    })
      .then(function (response) {
        // Signed out already (or the form expired): the page says what to do next.
        if (!response.ok) return window.location.reload();
        box.hidden = true;
        schedule();
      })
      ['catch'](function () {
        /* offline: the warning stays, so it can be tried again */
      });
  });

  schedule();
})();
