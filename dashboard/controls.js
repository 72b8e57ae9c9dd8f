// What the settings and team views share: a status line that says how an action went, and a
// button that looks like a link.

/**
 * A status line (element `id`), `say(text, error)`, and `attempt(work, done)`: runs `work`,
 * re-renders the view, then says what `work` returned if it is text, else `done` (or the error).
 */
export function statusLine(h, id, rerender) {
  const status = h('p', { class: 'status', role: 'status', id })
  const say = (text, error = false) => {
    status.textContent = text
    status.className = error ? 'status error' : 'status'
  }
  const attempt = async (work, done) => {
    try {
      const said = await work()
      // said once the view shows the change: the status is then the new view's
      await rerender()
      document.getElementById(id).textContent = typeof said === 'string' ? said : done
    } catch (failure) {
      say(failure.message, true)
    }
  }
  return { status, say, attempt }
}

/** A button that looks like a link, `label` naming it for screen readers. */
export function linkButton(h, text, label, onclick) {
  return h('button', { type: 'button', class: 'link', 'aria-label': label, onclick }, text)
}
