// SpeakSafe web chat page: quick exit, and Bot Framework Web Chat talking to
// SpeakSafe's own Direct Line API. Nothing is written to cookies, localStorage
// or sessionStorage: the token lives in this closure only and dies with the tab.
(function () {
  'use strict';

  var EXIT_URL = 'https://www.bbc.co.uk/weather';
  var DIRECT_LINE = window.location.origin + '/v3/directline';
  // Tokens last 30 minutes and are refreshed every 15 while the page runs. A
  // tab asleep for longer comes back to an ended chat.
  var ASLEEP_LIMIT_MS = 25 * 60 * 1000;

  var directLine = null;
  var statusSubscription = null;
  var hiddenAt = 0;
  var leaving = false;

  function byId(id) {
    return document.getElementById(id);
  }

  // ---------------------------------------------------------------- quick exit

  function quickExit(event) {
    if (event) {
      event.preventDefault();
      event.stopPropagation();
    }
    if (leaving) return;
    leaving = true;
    stopChat();
    try {
      document.title = 'Weather';
      document.body.innerHTML = '';
    } catch (e) {
      /* nothing to clear */
    }
    // replace(): this page is not left in the tab's history.
    window.location.replace(EXIT_URL);
  }

  // Inside a chat message's own content, and in the chat's keyboard help, Esc belongs to the chat: its
  // keyboard help says "Exit message: Escape key". Everywhere else (the message box too) Esc leaves at once;
  // from inside a message, a second Esc leaves.
  var CHAT_OWNS_ESCAPE = '.webchat__basic-transcript__activity, .webchat__keyboard-help';

  byId('quick-exit').addEventListener('click', quickExit);
  document.addEventListener(
    'keydown',
    function (event) {
      if (event.key !== 'Escape' && event.key !== 'Esc') return;
      var target = event.target;
      if (target && target.closest && target.closest(CHAT_OWNS_ESCAPE)) return;
      quickExit(event);
    },
    true,
  );

  // The sticky banner's real height (it grows when its text wraps, or when text is enlarged): the page keeps
  // that much room above anything that takes keyboard focus, so focus is never hidden under it (WCAG 2.4.11).
  function measureBanner() {
    var banner = document.querySelector('.banner');
    if (banner) document.documentElement.style.setProperty('--banner-height', banner.offsetHeight + 'px');
  }
  measureBanner();
  window.addEventListener('resize', measureBanner);

  // ---------------------------------------------------------------- chat

  function setStatus(text) {
    var el = byId('chat-status');
    if (el) el.textContent = text;
  }

  function show(id, visible) {
    var el = byId(id);
    if (el) el.hidden = !visible;
  }

  function stopChat() {
    if (statusSubscription) {
      try {
        statusSubscription.unsubscribe();
      } catch (e) {
        /* already closed */
      }
      statusSubscription = null;
    }
    if (directLine) {
      try {
        directLine.end();
      } catch (e) {
        /* already ended */
      }
      directLine = null;
    }
  }

  function fail(id) {
    var focusWasInChat = document.activeElement && byId('chat').contains(document.activeElement);
    stopChat();
    setStatus('');
    var host = byId('webchat');
    if (host) host.hidden = true;
    show(id, true);
    // The message is an alert (announced); keyboard focus, which was in the chat just hidden, moves to it.
    var message = byId(id);
    if (message && (focusWasInChat || document.activeElement === document.body)) message.focus();
  }

  function styleOptions() {
    return {
      accent: '#1d3b6f',
      primaryFont: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
      bubbleBackground: '#f3f2f1',
      bubbleTextColor: '#1b1b1b',
      bubbleFromUserBackground: '#1d3b6f',
      bubbleFromUserTextColor: '#ffffff',
      bubbleBorderRadius: 6,
      bubbleFromUserBorderRadius: 6,
      bubbleMaxWidth: 560,
      hideUploadButton: true,
      sendBoxTextWrap: true,
      suggestedActionLayout: 'flow',
      suggestedActionBackgroundColor: '#ffffff',
      suggestedActionBorderColor: '#1d3b6f',
      suggestedActionBorderWidth: 2,
      suggestedActionTextColor: '#1d3b6f',
      suggestedActionHeight: 44,
      subtle: '#4a4a4a',
      timestampColor: '#4a4a4a',
      // No avatars: Web Chat reads an avatar's initials aloud with every message ("Bot SS said").
    };
  }

  function startChat() {
    stopChat();
    show('chat-problem', false);
    show('chat-timeout', false);
    var host = byId('webchat');
    host.hidden = false;
    host.innerHTML = '';
    setStatus('Connecting…');
    if (!window.WebChat) {
      fail('chat-problem');
      return;
    }
    fetch('/v3/directline/tokens/generate', {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    })
      .then(function (response) {
        if (!response.ok) throw new Error('token ' + response.status);
        return response.json();
      })
      .then(function (conversation) {
        if (leaving) return;
        directLine = window.WebChat.createDirectLine({
          domain: DIRECT_LINE,
          token: conversation.token,
          webSocket: false,
        });
        statusSubscription = directLine.connectionStatus$.subscribe(function (status) {
          // 2 Online, 3 ExpiredToken, 4 FailedToConnect, 5 Ended
          if (status === 2) setStatus('');
          else if (status === 3 || status === 5) fail('chat-timeout');
          else if (status === 4) fail('chat-problem');
        });
        window.WebChat.renderWebChat(
          {
            directLine: directLine,
            locale: 'en-GB',
            styleOptions: styleOptions(),
          },
          host,
        );
      })
      ['catch'](function () {
        if (!leaving) fail('chat-problem');
      });
  }

  byId('chat-restart').addEventListener('click', startChat);
  byId('chat-timeout-restart').addEventListener('click', startChat);

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') {
      hiddenAt = Date.now();
    } else if (hiddenAt && directLine && Date.now() - hiddenAt > ASLEEP_LIMIT_MS) {
      fail('chat-timeout');
    }
  });

  // This deferred script runs before webchat.js (also deferred, and later in
  // the page); DOMContentLoaded fires once both have run.
  if (document.readyState === 'complete') {
    startChat();
  } else {
    document.addEventListener('DOMContentLoaded', startChat);
  }
})();
