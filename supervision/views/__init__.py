"""The pages: thin views that bind a form, call one service and render.

common (home, notifications), staff (我的待办, the node page and its forms, weekly update,
attachments), leader (approvals, coverage), office (the priority list, cards, items),
projects (the project list and page).
"""
